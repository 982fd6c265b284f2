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
        precondition(metadata.term >= 1, "a snapshot after index 0 has a term of at least 1")
        try syncIfNeeded()
        try writeSnapshotFile(snapshot)
        if !logContinues(metadata) {
            try failing { () throws(RaftLogError) in try discardAllSegments() }
            compactedIndex = metadata.index
            compactedTerm = metadata.term
            writtenLastIndex = metadata.index
            durableLastIndex = metadata.index
        }
        try removeSnapshotsBeyondRetention()
    }

    /// Records the initial membership of a new cluster as the bootstrap snapshot (index 0, term 0, no data).
    ///
    /// The consensus core takes a fresh member's configuration from the snapshot (or `initialState()`), so a
    /// member that founds a cluster persists its membership here once, before it starts. A member that joins
    /// an existing cluster does not bootstrap: it learns the membership from the leader.
    ///
    /// - Throws: ``RaftLogError/alreadyInitialized`` when the storage holds a snapshot, an entry or a hard
    ///   state; I/O errors (the log is then failed).
    public func bootstrap(configuration: ConfigurationState) throws(RaftLogError) {
        try checkUsable()
        guard newestSnapshot == nil, lastIndex == 0, hardState == HardState() else { throw .alreadyInitialized }
        let metadata = SnapshotMetadata(index: 0, term: 0, configuration: configuration)
        try writeSnapshotFile(Snapshot(metadata: metadata))
    }

    /// Takes a snapshot of the state machine at an applied `index`, with the term the log holds there.
    ///
    /// The log is kept; call ``compact(upTo:)`` afterwards to drop the entries the snapshot covers.
    ///
    /// - Throws: ``RaftLogError/indexOutOfRange(index:firstIndex:lastIndex:)`` when `index` is not in the log,
    ///   and the errors of ``saveSnapshot(_:)``.
    public func createSnapshot(
        at index: UInt64,
        configuration: ConfigurationState,
        data: [UInt8]
    ) throws(RaftLogError) {
        guard index >= compactedIndex, index <= lastIndex, let term = try? term(at: index), term > 0 else {
            throw .indexOutOfRange(index: index, firstIndex: firstIndex, lastIndex: lastIndex)
        }
        let metadata = SnapshotMetadata(index: index, term: term, configuration: configuration)
        try saveSnapshot(Snapshot(metadata: metadata, data: data))
    }

    /// Encodes, checks and durably writes a snapshot file, then records it as the newest.
    private func writeSnapshotFile(_ snapshot: Snapshot) throws(RaftLogError) {
        guard snapshot.data.count <= configuration.maxSnapshotBytes else {
            throw .snapshotTooLarge(bytes: snapshot.data.count, limit: configuration.maxSnapshotBytes)
        }
        let bytes = SnapshotCodec.encode(snapshot)
        let check = try? SnapshotCodec.decode(bytes, maxDataBytes: configuration.maxSnapshotBytes)
        precondition(check == snapshot, "snapshot encoding does not decode back to the snapshot")
        let metadata = snapshot.metadata
        let name = SnapshotCodec.fileName(index: metadata.index, term: metadata.term)
        try failing { () throws(RaftLogError) in
            try writeAtomically(bytes, to: joinPath(snapshotDirectory, name), directory: snapshotDirectory)
        }
        newestSnapshot = metadata
        snapshotFileNames.append(name)
    }

    /// Whether the log holds the snapshot's last entry with the snapshot's term.
    private func logContinues(_ metadata: SnapshotMetadata) -> Bool {
        guard metadata.index <= lastIndex, metadata.index >= compactedIndex else { return false }
        return (try? term(at: metadata.index)) == metadata.term
    }

    /// Removes every snapshot but the newest, whatever the retention, so nothing the older ones hold stays on
    /// disk (after stored data was re-sealed under a new key).
    ///
    /// - Throws: I/O errors (the log is then failed).
    public func removeSnapshotsBeforeNewest() throws(RaftLogError) {
        try checkUsable()
        try removeSnapshots(keeping: 1)
    }

    private func removeSnapshotsBeyondRetention() throws(RaftLogError) {
        try removeSnapshots(keeping: configuration.retainedSnapshotCount)
    }

    private func removeSnapshots(keeping kept: Int) throws(RaftLogError) {
        let excess = snapshotFileNames.count - kept
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
            if case .unsupportedVersion(let version) = error { throw .unsupportedVersion(file: path, version: version) }
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
