/// An in-memory ``RaftStorage`` with the write operations a driver performs, for tests and the simulator.
///
/// Everything written is "durable" for as long as the object lives; the simulator models crashes by keeping
/// a ``copy()`` taken at each simulated fsync and restarting a member from it.
public final class MemoryRaftStorage: RaftStorage {
    private var hardStateValue = HardState()
    private var snapshotValue: Snapshot
    /// The index and term of the entry just before the first stored one (compacted away, or the snapshot's).
    private var compactedIndex: UInt64
    private var compactedTerm: UInt64
    /// The entries after `compactedIndex`.
    private var stored: [Entry] = []

    /// Creates storage for a member; `configuration` is the initial membership when bootstrapping a cluster,
    /// empty for a member that will join an existing one.
    public init(configuration: ConfigurationState = ConfigurationState()) {
        snapshotValue = Snapshot(metadata: SnapshotMetadata(index: 0, term: 0, configuration: configuration))
        compactedIndex = 0
        compactedTerm = 0
    }

    /// An independent copy of everything stored.
    public func copy() -> MemoryRaftStorage {
        let copy = MemoryRaftStorage()
        copy.hardStateValue = hardStateValue
        copy.snapshotValue = snapshotValue
        copy.compactedIndex = compactedIndex
        copy.compactedTerm = compactedTerm
        copy.stored = stored
        return copy
    }

    public func initialState() throws(RaftStorageError) -> (HardState, ConfigurationState) {
        var configuration = snapshotValue.metadata.configuration
        for entry in stored where entry.kind == .configurationChange && entry.index > snapshotValue.metadata.index {
            configuration = ConfigurationEntry(decoding: entry.data).resulting
        }
        return (hardStateValue, configuration)
    }

    public func entries(from low: UInt64, to high: UInt64, maxBytes: Int) throws(RaftStorageError) -> [Entry] {
        if low < firstIndex { throw .compacted }
        if high > lastIndex + 1 { throw .unavailable }
        var result: [Entry] = []
        var bytes = 0
        var index = low
        while index < high {
            let entry = stored[Int(index - firstIndex)]
            let size = entry.data.count + Entry.headerBytes
            if !result.isEmpty && bytes + size > maxBytes { break }
            result.append(entry)
            bytes += size
            index += 1
        }
        return result
    }

    public func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
        if index < compactedIndex { throw .compacted }
        if index == compactedIndex { return compactedTerm }
        if index > lastIndex { throw .unavailable }
        return stored[Int(index - compactedIndex - 1)].term
    }

    public var firstIndex: UInt64 { compactedIndex + 1 }

    public var lastIndex: UInt64 { compactedIndex + UInt64(stored.count) }

    public func snapshot() throws(RaftStorageError) -> Snapshot { snapshotValue }

    /// The stored hard state.
    public var hardState: HardState { hardStateValue }

    /// Persists the hard state from a ``Ready``.
    public func setHardState(_ state: HardState) {
        hardStateValue = state
    }

    /// Appends entries from a ``Ready``, first discarding any stored entries at or after the first one's index.
    ///
    /// - Precondition: the entries follow the stored log without a gap and are not before the first index.
    public func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        precondition(first.index >= firstIndex, "Appending entry \(first.index) below the first index is a core bug.")
        precondition(first.index <= lastIndex + 1, "Appending entry \(first.index) leaves a gap after \(lastIndex).")
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == first.index + UInt64(offset), "Appended entries must have consecutive indices.")
        }
        stored.removeLast(Int(lastIndex + 1 - first.index))
        stored.append(contentsOf: entries)
    }

    /// Persists a snapshot received from the leader, discarding the log it covers (and, when the log does not
    /// hold the snapshot's last entry with the same term, the whole log).
    public func applySnapshot(_ snapshot: Snapshot) {
        let index = snapshot.metadata.index
        precondition(index > snapshotValue.metadata.index, "Applying snapshot \(index) over a newer one.")
        if index >= compactedIndex && index <= lastIndex, (try? term(at: index)) == snapshot.metadata.term {
            stored.removeFirst(Int(index - compactedIndex))
        } else {
            stored = []
        }
        compactedIndex = index
        compactedTerm = snapshot.metadata.term
        snapshotValue = snapshot
    }

    /// Records a snapshot of the state machine taken at `index` (which the driver has applied); the log is
    /// kept until ``compact(through:)``.
    ///
    /// - Throws: ``RaftStorageError/compacted`` when a snapshot at or after `index` already exists;
    ///   ``RaftStorageError/unavailable`` when `index` is past the log.
    public func createSnapshot(
        at index: UInt64, configuration: ConfigurationState, data: [UInt8]
    ) throws(RaftStorageError) {
        if index <= snapshotValue.metadata.index { throw .compacted }
        let entryTerm = try term(at: index)
        snapshotValue = Snapshot(
            metadata: SnapshotMetadata(index: index, term: entryTerm, configuration: configuration), data: data)
    }

    /// Discards the entries through `index`, which the latest snapshot must cover.
    ///
    /// - Throws: ``RaftStorageError/compacted`` when they are already gone.
    /// - Precondition: `index` is not past the snapshot (the entries would be lost from every copy).
    public func compact(through index: UInt64) throws(RaftStorageError) {
        precondition(index <= snapshotValue.metadata.index, "Compacting past the snapshot would lose entries.")
        if index <= compactedIndex { throw .compacted }
        compactedTerm = try term(at: index)
        stored.removeFirst(Int(index - compactedIndex))
        compactedIndex = index
    }
}
