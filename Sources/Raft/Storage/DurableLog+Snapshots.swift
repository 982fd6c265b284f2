import DurableIO

extension DurableLog {
    /// Makes a snapshot durable and, when the log does not continue it, replaces the log by it.
    ///
    /// The file is written as `<name>.tmp`, fsynced, renamed to `<index>-<term>.snap` and the directory is
    /// fsynced; only then does the snapshot count (and may ``compact(upTo:)`` rely on it). If the log holds
    /// the snapshot's index with the snapshot's term, the log is kept (compaction is a separate step);
    /// otherwise (a snapshot installed from the leader) every segment is removed, newest first. Snapshots
    /// older than the newest ``RaftLogConfiguration/retainedSnapshotCount`` are then removed.
    ///
    /// - Throws: ``RaftLogError/snapshotOutOfDate(index:newestIndex:)``,
    ///   ``RaftLogError/snapshotTooLarge(bytes:limit:)``, I/O errors (the log is then failed).
    public func saveSnapshot(_ snapshot: Snapshot) throws(RaftLogError) {
        try checkUsable()
        precondition(!syncInFlight, "saving a snapshot while a sync is in flight")
        let metadata = snapshot.metadata
        let newestIndex = max(newestSnapshot?.index ?? 0, compactedIndex)
        guard metadata.index > newestIndex else {
            throw .snapshotOutOfDate(index: metadata.index, newestIndex: newestIndex)
        }
        guard snapshot.data.count <= configuration.maxSnapshotBytes else {
            throw .snapshotTooLarge(bytes: snapshot.data.count, limit: configuration.maxSnapshotBytes)
        }
        precondition(metadata.term >= 1, "a snapshot's term is at least 1")
        try syncIfNeeded()
        let bytes = SnapshotCodec.encode(snapshot)
        let check = try? SnapshotCodec.decode(bytes, maxDataBytes: configuration.maxSnapshotBytes)
        precondition(check == snapshot, "snapshot encoding does not decode back to the snapshot")
        let name = SnapshotCodec.fileName(index: metadata.index, term: metadata.term)
        try failing { () throws(RaftLogError) in
            try writeAtomically(bytes, to: joinPath(snapshotDirectory, name), directory: snapshotDirectory)
        }
        newestSnapshot = metadata
        snapshotFileNames.append(name)
        if !logContinues(metadata) {
            try failing { () throws(RaftLogError) in try discardAllSegments() }
            compactedIndex = metadata.index
            compactedTerm = metadata.term
            writtenLastIndex = metadata.index
            durableLastIndex = metadata.index
        }
        try removeSnapshotsBeyondRetention()
    }

    /// Whether the log holds the snapshot's last entry with the snapshot's term.
    private func logContinues(_ metadata: SnapshotMetadata) -> Bool {
        guard metadata.index <= lastIndex, metadata.index >= compactedIndex else { return false }
        return (try? term(at: metadata.index)) == metadata.term
    }

    private func removeSnapshotsBeyondRetention() throws(RaftLogError) {
        let excess = snapshotFileNames.count - configuration.retainedSnapshotCount
        guard excess > 0 else { return }
        let removed = Array(snapshotFileNames.prefix(excess))
        try failing { () throws(RaftLogError) in
            try withIO { () throws(FileSystemError) in
                for name in removed { try fileSystem.removeFile(at: joinPath(snapshotDirectory, name)) }
                try fileSystem.syncDirectory(at: snapshotDirectory)
            }
        }
        snapshotFileNames.removeFirst(excess)
    }

    /// Reads a snapshot file and verifies its checksum, fields and name.
    func readSnapshot(named name: String) throws(SnapshotReadError) -> Snapshot {
        let path = joinPath(snapshotDirectory, name)
        let bytes: [UInt8]
        do throws(FileSystemError) {
            bytes = try fileSystem.readFile(at: path)
        } catch {
            throw .io(error)
        }
        let snapshot: Snapshot
        do throws(StorageFormatError) {
            snapshot = try SnapshotCodec.decode(bytes, maxDataBytes: configuration.maxSnapshotBytes)
        } catch {
            throw .invalid(file: path, reason: error.description)
        }
        guard SnapshotCodec.fileName(index: snapshot.metadata.index, term: snapshot.metadata.term) == name else {
            throw .invalid(
                file: path, reason: "content is for index \(snapshot.metadata.index) term \(snapshot.metadata.term)")
        }
        return snapshot
    }

    /// Replaces `path` by `bytes` crash-atomically: write a temporary file, fsync, rename, fsync the directory.
    func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(RaftLogError) {
        let temporaryPath = path + ".tmp"
        try withIO { () throws(FileSystemError) in
            let file = try fileSystem.openFile(at: temporaryPath, mode: .truncate)
            try file.write(bytes)
            try file.sync()
            try file.close()
            try fileSystem.rename(from: temporaryPath, to: path)
            try fileSystem.syncDirectory(at: directory)
        }
    }
}
