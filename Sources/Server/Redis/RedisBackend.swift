import KV
import RESP
import RedisCommands

/// What the Redis adapter needs from the node: proposing writes, linearizable reads, a clock, server info.
public protocol RedisBackend: Sendable {
    /// Proposes a command through Raft (forwarding to the leader when needed) and waits until it is applied.
    func execute(_ command: Command) async throws(BackendError) -> CommandResult
    /// Answers a read after a linearizable read barrier (or under a lease, when configured).
    func read(_ command: ReadCommand) async throws(BackendError) -> RESPValue
    /// The wall clock in Unix milliseconds, stamped into proposals for TTLs.
    func nowMillis() -> UInt64
    /// The text of `INFO`.
    func info() -> String
    /// WATCH: each key's newest version in `database`, read after a linearizable read barrier.
    func watch(_ keys: [[UInt8]], database: UInt8) async throws(BackendError) -> [TransactionEntry.Watch]
    /// EXEC: proposes `transaction` (stamped with this node's clock) as one Raft entry and waits until it is
    /// applied. Nil when a watched key had changed, so nothing was applied.
    func execute(_ transaction: TransactionEntry) async throws(BackendError) -> [RESPValue]?
    /// This node's running read-only scripts (SCRIPT KILL, FUNCTION KILL).
    var scripts: RunningScripts { get }
    /// Bumped whenever this node applies entries: what blocked commands (BLPOP …) wait on.
    var applied: ApplySignal { get }
    /// Those of `keys` that hold a value of `type` (as TYPE names it) in this node's store as last applied,
    /// read without a read barrier: a blocked command proposes its write again only when there are some.
    func keys(_ keys: [[UInt8]], holding type: String, database: UInt8) -> [[UInt8]]
    /// Answers a read from this node's store as last applied, without a read barrier: INFO keyspace and
    /// MEMORY USAGE, which must answer on a member cut off from its leader too.
    func readLocal(_ command: ReadCommand) throws(BackendError) -> RESPValue
    /// Raft and snapshot progress, for WAIT, LASTSAVE and INFO.
    func serverState() -> NodeServerState
    /// SAVE and BGSAVE: this node snapshots its store and compacts its log.
    func snapshot() async throws(BackendError)
}

/// What the server commands read about the node.
public struct NodeServerState: Sendable, Hashable {
    public var isLeader: Bool
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    /// The last index in the member's log, committed or not (at least every index committed anywhere, once
    /// this member leads).
    public var lastLogIndex: UInt64
    /// On a leader, the highest log index each other member holds; empty elsewhere.
    public var replicaMatchIndexes: [UInt64]
    public var snapshotIndex: UInt64
    public var lastSnapshotUnixSeconds: Int64

    public init(isLeader: Bool, commitIndex: UInt64, appliedIndex: UInt64, lastLogIndex: UInt64? = nil,
                replicaMatchIndexes: [UInt64] = [], snapshotIndex: UInt64 = 0, lastSnapshotUnixSeconds: Int64 = 0) {
        self.isLeader = isLeader
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastLogIndex = lastLogIndex ?? commitIndex
        self.replicaMatchIndexes = replicaMatchIndexes
        self.snapshotIndex = snapshotIndex
        self.lastSnapshotUnixSeconds = lastSnapshotUnixSeconds
    }
}

/// Why the node could not serve a request; rendered as a Redis error line.
///
/// Every case but ``ambiguous(_:)`` means the request was **not** applied and never will be, so a client may
/// retry it (DESIGN §9). ``ambiguous(_:)`` means the outcome is unknown: a proposal or a forward left this node
/// and its result was not learned (deadline passed, leadership lost, connection lost after sending); the
/// client must read before it retries.
public enum BackendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No leader is known (election in progress, or this node is partitioned).
    case noLeader
    /// This member is not the leader and could not forward the request to the leader with this Raft id.
    case notLeader(leader: UInt64)
    /// A retryable refusal (proposal barrier, leadership change before the proposal was appended, leader
    /// unreachable before anything was sent); not applied.
    case tryAgain(String)
    /// The outcome is unknown: the write may have been appended and may still commit.
    case ambiguous(String)
    /// The node halted apply or otherwise cannot serve; the text explains. Not applied.
    case unavailable(String)
    /// The request can never be served as sent (it exceeds a limit of the Raft entry it would become).
    case refused(String)

    /// The error line a Redis client receives; its first word is the error code.
    public var redisMessage: String {
        switch self {
        case .noLeader: return "CLUSTERDOWN no Raft leader is known; retry once a leader is elected"
        case .notLeader(let leader): return "TRYAGAIN this node is not the leader (member \(leader)) and cannot reach it"
        case .tryAgain(let reason): return "TRYAGAIN \(reason)"
        case .ambiguous(let reason): return "AMBIGUOUS \(reason)"
        case .unavailable(let reason): return "ERR node unavailable: \(reason)"
        case .refused(let reason): return "ERR \(reason)"
        }
    }

    public var description: String { redisMessage }

    /// Whether the request may have taken effect (only ``ambiguous(_:)``).
    public var outcomeUnknown: Bool {
        if case .ambiguous = self { return true }
        return false
    }

    /// The error a write that waited past its deadline gets.
    public static let deadlinePassed = BackendError.ambiguous(
        "the deadline passed before the write was known to be applied; read before retrying")

    /// The error a write gets when its leader stepped down before the write committed.
    public static let leadershipLost = BackendError.ambiguous(
        "the leader lost leadership before the write was known to commit; read before retrying")
}
