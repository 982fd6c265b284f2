import DurableIO

extension DurableLog {
    /// Reads and verifies one segment during recovery.
    ///
    /// - Parameters:
    ///   - isLast: whether this is the newest segment, the only one allowed a torn tail.
    ///   - previous: the recovered segment before it, whose last index this one must continue.
    /// - Returns: the segment's index, or `nil` when it was the last segment and held nothing but a torn
    ///   header (it is then removed).
    func recoverSegment(firstIndex: UInt64, isLast: Bool, previous: LogSegment?) throws(RaftLogError) -> LogSegment? {
        let fileName = SegmentHeaderCodec.fileName(firstIndex: firstIndex)
        let path = joinPath(logDirectory, fileName)
        if let previous, firstIndex != previous.lastIndex + 1 {
            throw .corruptLog(
                file: path, offset: 0,
                reason: "segment starts at \(firstIndex) but the previous one ends at \(previous.lastIndex)")
        }
        let bytes = try withIO { () throws(FileSystemError) in try fileSystem.readFile(at: path) }
        guard try recoverHeader(bytes, path: path, firstIndex: firstIndex, isLast: isLast) else {
            try withIO { () throws(FileSystemError) in
                try fileSystem.removeFile(at: path)
                try fileSystem.syncDirectory(at: logDirectory)
            }
            return nil
        }
        var segment = LogSegment(
            firstIndex: firstIndex, byteCount: SegmentHeaderCodec.size, writtenByteCount: SegmentHeaderCodec.size)
        var previousTerm = previous?.terms.last ?? 0
        var offset = SegmentHeaderCodec.size
        while offset < bytes.count {
            let decoded: (entry: Entry, size: Int)
            do throws(StorageFormatError) {
                decoded = try LogRecordCodec.decode(bytes, at: offset, maxRecordBytes: configuration.maxRecordBytes)
            } catch {
                let nextIndex = segment.lastIndex + 1
                if isLast && !hasValidRecord(in: bytes, after: offset, nextIndex: nextIndex) {
                    try truncateTornTail(of: segment, path: path, toSize: offset)
                    break
                }
                throw .corruptLog(file: path, offset: offset, reason: "record \(nextIndex): \(error)")
            }
            let entry = decoded.entry
            guard entry.index == segment.lastIndex + 1, entry.term >= previousTerm else {
                throw .corruptLog(
                    file: path, offset: offset,
                    reason: "record holds index \(entry.index) term \(entry.term), expected index "
                        + "\(segment.lastIndex + 1) with term at least \(previousTerm)")
            }
            segment.offsets.append(UInt32(offset))
            segment.terms.append(entry.term)
            cache.append(entry)
            previousTerm = entry.term
            offset += decoded.size
        }
        segment.byteCount = offset
        segment.writtenByteCount = offset
        return segment
    }

    /// Verifies a segment header; `false` when the last segment holds only a torn header.
    private func recoverHeader(_ bytes: [UInt8], path: String, firstIndex: UInt64, isLast: Bool) throws(RaftLogError)
        -> Bool
    {
        do throws(StorageFormatError) {
            let headerIndex = try SegmentHeaderCodec.decode(bytes)
            guard headerIndex == firstIndex else {
                throw .invalidField("header first index \(headerIndex) differs from the file name")
            }
            return true
        } catch {
            let tearable: Bool
            switch error {
            case .truncated, .checksumMismatch: tearable = true
            default: tearable = false
            }
            if isLast && tearable && !hasValidRecord(in: bytes, after: -1, nextIndex: firstIndex) { return false }
            if case .unsupportedVersion(let version) = error {
                throw .unsupportedFormatVersion(file: path, version: version)
            }
            throw .corruptLog(file: path, offset: 0, reason: "segment header: \(error)")
        }
    }

    /// Whether any valid record that could continue the log at `nextIndex` starts after `offset`.
    private func hasValidRecord(in bytes: [UInt8], after offset: Int, nextIndex: UInt64) -> Bool {
        let start = offset + 1
        guard start < bytes.count else { return false }
        let maxFollowing = UInt64((bytes.count - start) / LogRecordCodec.minimumRecordSize + 1)
        return LogRecordCodec.containsValidRecord(
            in: bytes, from: start, indexRange: nextIndex...(nextIndex + maxFollowing),
            maxRecordBytes: configuration.maxRecordBytes)
    }

    /// Cuts a torn tail off the last segment and makes the new size durable.
    private func truncateTornTail(of segment: LogSegment, path: String, toSize size: Int) throws(RaftLogError) {
        let file = try withIO { () throws(FileSystemError) -> any WritableFile in
            try fileSystem.truncateFile(at: path, toSize: size)
            let file = try fileSystem.openFile(at: path, mode: .append)
            try file.sync()
            return file
        }
        activeFile = file
        activeFileIndex = segment.firstIndex
    }
}
