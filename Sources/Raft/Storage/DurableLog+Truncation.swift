import DurableIO

extension DurableLog {
    /// Removes every entry from `index` on, durably, so a follower can replace a conflicting suffix.
    ///
    /// Buffered entries are synced first. Later segments are removed newest first, each removal made durable
    /// before the next, then the segment holding `index` is truncated and fsynced; a crash at any point
    /// leaves a prefix of the old log, never a log with a hole. New entries may be appended when it returns.
    ///
    /// - Precondition: `index` is after the persisted commit index (committed entries never change).
    /// - Throws: ``RaftLogError/indexOutOfRange(index:firstIndex:lastIndex:)`` unless `index` is after the
    ///   compaction point and the newest snapshot (both cover committed entries) and at most `lastIndex + 1`;
    ///   I/O errors (the log is then failed).
    public func truncateSuffix(from index: UInt64) throws(RaftLogError) {
        try checkUsable()
        precondition(!syncInFlight, "truncating while a sync is in flight")
        let protectedIndex = max(compactedIndex, newestSnapshot?.index ?? 0)
        guard index > protectedIndex, index <= lastIndex + 1 else {
            throw .indexOutOfRange(index: index, firstIndex: protectedIndex + 1, lastIndex: lastIndex)
        }
        precondition(index > hardState.commit, "truncating from \(index) would drop committed entries")
        guard index <= lastIndex else { return }
        try syncIfNeeded()
        try failing { () throws(RaftLogError) in
            while let last = segments.last, last.firstIndex >= index { try removeLastSegment() }
            if let position = segments.indices.last, segments[position].contains(index) {
                try truncateSegment(at: position, from: index)
            }
        }
        cache.removeSuffix(from: index)
        readBuffer = nil
        writtenLastIndex = lastIndex
        durableLastIndex = lastIndex
    }

    /// Cuts the segment at `position` before record `index` and fsyncs it.
    ///
    /// The segment's open handle is closed and a new one opened in append mode: a handle that created the
    /// file writes at its own offset, which would still point past the cut and leave a hole of zeros.
    private func truncateSegment(at position: Int, from index: UInt64) throws(RaftLogError) {
        var segment = segments[position]
        segment.removeRecords(from: index)
        let path = joinPath(logDirectory, segment.fileName)
        let size = segment.byteCount
        let existing = activeFileIndex == segment.firstIndex ? activeFile : nil
        activeFile = nil
        let file = try withIO { () throws(FileSystemError) -> any WritableFile in
            try existing?.close()
            try fileSystem.truncateFile(at: path, toSize: size)
            let file = try fileSystem.openFile(at: path, mode: .append)
            try file.sync()
            return file
        }
        segments[position] = segment
        activeFile = file
        activeFileIndex = segment.firstIndex
    }

    /// Removes the newest segment file and makes the removal durable.
    func removeLastSegment() throws(RaftLogError) {
        guard let last = segments.last else { return }
        precondition(last.unwrittenBytes.isEmpty || !last.fileExists, "removing a segment with unwritten bytes")
        if activeFileIndex == last.firstIndex, let file = activeFile {
            activeFile = nil
            try withIO { () throws(FileSystemError) in try file.close() }
        }
        if last.fileExists {
            let path = joinPath(logDirectory, last.fileName)
            try withIO { () throws(FileSystemError) in
                try fileSystem.removeFile(at: path)
                try fileSystem.syncDirectory(at: logDirectory)
            }
        }
        segments.removeLast()
    }

    /// Removes every segment, newest first, so an interrupted discard leaves a prefix of the old log.
    func discardAllSegments() throws(RaftLogError) {
        while !segments.isEmpty { try removeLastSegment() }
        cache.removeAll()
        readBuffer = nil
    }

    /// Makes the next appended entry start a new segment file, so that entries appended from now on never share
    /// a file with the entries before them (which a later compaction and ``removeCompactedSegments()`` can then
    /// delete with their file).
    public func rollSegment() {
        rollBeforeNextAppend = true
    }

    /// Deletes the newest segment too when every entry it holds is compacted (``compact(upTo:)`` keeps it), so
    /// no compacted entry stays in any file; the next append starts a new segment.
    ///
    /// - Throws: I/O errors (the log is then failed).
    public func removeCompactedSegments() throws(RaftLogError) {
        try checkUsable()
        precondition(!syncInFlight, "removing segments while a sync is in flight")
        try syncIfNeeded()
        guard let last = segments.last, last.terms.isEmpty || last.lastIndex <= compactedIndex else { return }
        try failing { () throws(RaftLogError) in try discardAllSegments() }
    }

    /// Drops entries up to `index` from the log, deleting segments wholly at or before it.
    ///
    /// Allowed only up to the newest durable snapshot (``saveSnapshot(_:)`` returned), so a crash at any
    /// point leaves either the entries or a durable snapshot covering them. The segment holding `index` and
    /// the newest segment stay; their entries up to `index` are no longer served. ``firstIndex`` becomes
    /// `index + 1`.
    ///
    /// - Throws: ``RaftLogError/compactionBeyondSnapshot(requested:snapshotIndex:)``,
    ///   ``RaftLogError/indexOutOfRange(index:firstIndex:lastIndex:)`` past the last index, I/O errors.
    public func compact(upTo index: UInt64) throws(RaftLogError) {
        try checkUsable()
        precondition(!syncInFlight, "compacting while a sync is in flight")
        let snapshotIndex = newestSnapshot?.index ?? 0
        guard index <= snapshotIndex else {
            throw .compactionBeyondSnapshot(requested: index, snapshotIndex: snapshotIndex)
        }
        guard index > compactedIndex else { return }
        guard index <= lastIndex else {
            throw .indexOutOfRange(index: index, firstIndex: firstIndex, lastIndex: lastIndex)
        }
        try syncIfNeeded()
        guard let term = try? term(at: index) else { preconditionFailure("term of \(index) vanished") }
        compactedTerm = term
        compactedIndex = index
        cache.removePrefix(through: index)
        let removable = segments.dropLast().prefix { $0.lastIndex <= index }.count
        guard removable > 0 else { return }
        let removed = segments.prefix(removable).map { joinPath(logDirectory, $0.fileName) }
        segments.removeFirst(removable)
        readBuffer = nil
        try failing { () throws(RaftLogError) in
            try withIO { () throws(FileSystemError) in
                for path in removed { try fileSystem.removeFile(at: path) }
                try fileSystem.syncDirectory(at: logDirectory)
            }
        }
    }
}
