import DurableIO

extension DurableLog {
    /// Opens (creating when absent) the storage in `directory` and recovers it to a consistent state.
    ///
    /// Recovery: leftover temporary files are removed; the newest valid snapshot is chosen and invalid or
    /// partial snapshot files are removed; segments wholly covered by that snapshot are removed (finishing an
    /// interrupted compaction); every remaining record is checked (CRC, index continuity within and across
    /// segments). A torn tail — bad bytes at the end of the last segment with no valid record after them — is
    /// truncated durably, because only unacknowledged appends can be torn. Anything else is corruption.
    ///
    /// - Throws: ``RaftLogError/corruptLog(file:offset:reason:)`` naming the file and offset of damage that is
    ///   not a torn tail, ``RaftLogError/corruptHardState(file:reason:)``,
    ///   ``RaftLogError/commitBeyondLog(commit:lastIndex:)``, ``RaftLogError/unsupportedFormatVersion(file:version:)``,
    ///   ``RaftLogError/io(_:)``.
    public static func open(
        directory: String,
        fileSystem: any FileSystem,
        configuration: RaftLogConfiguration = RaftLogConfiguration()
    ) throws(RaftLogError) -> DurableLog {
        let log = DurableLog(directory: directory, fileSystem: fileSystem, configuration: configuration)
        try log.prepareDirectories()
        try log.recoverHardState()
        try log.recoverSnapshots()
        try log.recoverSegments()
        guard log.hardState.commit <= log.lastIndex else {
            throw .commitBeyondLog(commit: log.hardState.commit, lastIndex: log.lastIndex)
        }
        return log
    }

    func prepareDirectories() throws(RaftLogError) {
        try withIO { () throws(FileSystemError) in
            try fileSystem.createDirectory(at: logDirectory)
            try fileSystem.createDirectory(at: snapshotDirectory)
            try fileSystem.syncDirectory(at: directory)
            let parent = PosixFileSystem.parentDirectory(of: directory)
            if parent != directory { try fileSystem.syncDirectory(at: parent) }
        }
    }

    func recoverHardState() throws(RaftLogError) {
        let temporaryPath = hardStatePath + ".tmp"
        if fileSystem.fileExists(at: temporaryPath) {
            try withIO { () throws(FileSystemError) in
                try fileSystem.removeFile(at: temporaryPath)
                try fileSystem.syncDirectory(at: directory)
            }
        }
        guard fileSystem.fileExists(at: hardStatePath) else { return }
        let bytes = try withIO { () throws(FileSystemError) in try fileSystem.readFile(at: hardStatePath) }
        do throws(StorageFormatError) {
            hardState = try HardStateCodec.decode(bytes)
        } catch {
            if case .unsupportedVersion(let version) = error {
                throw .unsupportedFormatVersion(file: hardStatePath, version: version)
            }
            throw .corruptHardState(file: hardStatePath, reason: error.description)
        }
    }

    func recoverSnapshots() throws(RaftLogError) {
        let names = try withIO { () throws(FileSystemError) in try fileSystem.listDirectory(at: snapshotDirectory) }
        var valid: [SnapshotMetadata] = []
        var removedAny = false
        for name in names {
            let path = joinPath(snapshotDirectory, name)
            if name.hasSuffix(".tmp") {
                try withIO { () throws(FileSystemError) in try fileSystem.removeFile(at: path) }
                removedAny = true
                continue
            }
            guard SnapshotCodec.indexAndTerm(fromFileName: name) != nil else { continue }
            if let metadata = try verifiedSnapshotMetadata(named: name) {
                valid.append(metadata)
            } else {
                try withIO { () throws(FileSystemError) in try fileSystem.removeFile(at: path) }
                removedAny = true
            }
        }
        if removedAny {
            try withIO { () throws(FileSystemError) in try fileSystem.syncDirectory(at: snapshotDirectory) }
        }
        valid.sort { ($0.index, $0.term) < ($1.index, $1.term) }
        snapshotFileNames = valid.map { SnapshotCodec.fileName(index: $0.index, term: $0.term) }
        newestSnapshot = valid.last
    }

    /// The metadata of a snapshot file that decodes and matches its name; `nil` when it is invalid.
    ///
    /// A snapshot of a newer format version is not invalid: removing it would destroy what a newer build
    /// wrote, so it stops recovery instead.
    private func verifiedSnapshotMetadata(named name: String) throws(RaftLogError) -> SnapshotMetadata? {
        do throws(SnapshotReadError) {
            return try readSnapshot(named: name).metadata
        } catch {
            switch error {
            case .io(let failure): throw .io(failure)
            case .unsupportedVersion(let file, let version):
                throw .unsupportedFormatVersion(file: file, version: version)
            case .invalid: return nil
            }
        }
    }

    func recoverSegments() throws(RaftLogError) {
        let snapshotIndex = newestSnapshot?.index ?? 0
        var firstIndexes = try listSegmentFirstIndexes()
        try removeSegmentsCovered(bySnapshotAt: snapshotIndex, firstIndexes: &firstIndexes)
        var recovered: [LogSegment] = []
        for (position, firstIndex) in firstIndexes.enumerated() {
            let isLast = position == firstIndexes.count - 1
            let previous = recovered.last
            if let segment = try recoverSegment(firstIndex: firstIndex, isLast: isLast, previous: previous) {
                recovered.append(segment)
            }
            cache.evict(keepingUnwrittenAfter: UInt64.max)
        }
        segments = recovered
        compactedIndex = snapshotIndex
        compactedTerm = newestSnapshot?.term ?? 0
        try reconcileSegmentsWithSnapshot()
        cache.removePrefix(through: compactedIndex)
        writtenLastIndex = lastIndex
        durableLastIndex = lastIndex
        cache.evict(keepingUnwrittenAfter: writtenLastIndex)
    }

    private func listSegmentFirstIndexes() throws(RaftLogError) -> [UInt64] {
        let names = try withIO { () throws(FileSystemError) in try fileSystem.listDirectory(at: logDirectory) }
        return names.compactMap { SegmentHeaderCodec.firstIndex(fromFileName: $0) }.sorted()
    }

    /// Removes segments that end at or before the snapshot: those whose successor starts by `index + 1`.
    private func removeSegmentsCovered(
        bySnapshotAt index: UInt64,
        firstIndexes: inout [UInt64]
    ) throws(RaftLogError) {
        var removedAny = false
        while firstIndexes.count >= 2, firstIndexes[1] <= index + 1 {
            let path = joinPath(logDirectory, SegmentHeaderCodec.fileName(firstIndex: firstIndexes[0]))
            try withIO { () throws(FileSystemError) in try fileSystem.removeFile(at: path) }
            firstIndexes.removeFirst()
            removedAny = true
        }
        if removedAny {
            try withIO { () throws(FileSystemError) in try fileSystem.syncDirectory(at: logDirectory) }
        }
    }

    /// Checks the log against the newest snapshot, discarding a log the snapshot replaces.
    ///
    /// The log is kept when it starts right after the snapshot, or when it holds the snapshot's own index
    /// with the snapshot's term (entries up to that index are then hidden). A log that ends before the
    /// snapshot or disagrees with its term is stale: Raft replaces it by the snapshot. A log that starts
    /// after `snapshot + 1` is missing entries, which is corruption.
    private func reconcileSegmentsWithSnapshot() throws(RaftLogError) {
        guard let first = segments.first else { return }
        if first.firstIndex == compactedIndex + 1 { return }
        if first.firstIndex > compactedIndex + 1 {
            throw .corruptLog(
                file: joinPath(logDirectory, first.fileName), offset: 0,
                reason: "log starts at \(first.firstIndex) but the newest snapshot ends at \(compactedIndex)")
        }
        if let position = segments.firstIndex(where: { $0.contains(compactedIndex) }),
            segments[position].terms[Int(compactedIndex - segments[position].firstIndex)] == compactedTerm
        {
            return
        }
        try discardAllSegments()
    }
}
