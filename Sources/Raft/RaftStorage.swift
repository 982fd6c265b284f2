/// Read access the consensus core needs to the stable (persisted) part of the log.
///
/// The core never writes through this protocol: it hands entries, hard state and snapshots to persist in its
/// ready batch, and the driver persists them (to the durable log, or to memory in tests) before calling
/// `advance()`. Implementations: the in-memory storage used by tests and the simulator, and the durable
/// segmented log.
public protocol RaftStorage: AnyObject {
    /// The persisted hard state and the membership as of the last snapshot / configuration entry.
    func initialState() throws(RaftStorageError) -> (HardState, ConfigurationState)

    /// Entries in `[low, high)`, stopping early (but returning at least one entry) once `maxBytes` of entry
    /// data would be exceeded.
    ///
    /// - Throws: ``RaftStorageError/compacted`` when `low` is before ``firstIndex``;
    ///   ``RaftStorageError/unavailable`` when `high` is past ``lastIndex`` + 1.
    func entries(from low: UInt64, to high: UInt64, maxBytes: Int) throws(RaftStorageError) -> [Entry]

    /// The term of the entry at `index`. Valid for `firstIndex - 1 ... lastIndex` (the snapshot's own
    /// index and term included).
    func term(at index: UInt64) throws(RaftStorageError) -> UInt64

    /// The first index still held as an entry (the latest snapshot's index + 1).
    var firstIndex: UInt64 { get }

    /// The last persisted index (the snapshot's index when the log is empty).
    var lastIndex: UInt64 { get }

    /// The most recent snapshot.
    func snapshot() throws(RaftStorageError) -> Snapshot
}

/// Why ``RaftStorage`` could not answer.
public enum RaftStorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The requested index was compacted into a snapshot.
    case compacted
    /// The requested index is not in the log (yet).
    case unavailable
    /// The snapshot is being produced; ask again later.
    case snapshotTemporarilyUnavailable
    /// Reading the log failed; the message names the file and the reason.
    case io(String)

    public var description: String {
        switch self {
        case .compacted: return "requested index was compacted into a snapshot"
        case .unavailable: return "requested index is not in the log"
        case .snapshotTemporarilyUnavailable: return "snapshot is not ready yet"
        case .io(let message): return "log storage I/O failed: \(message)"
        }
    }
}
