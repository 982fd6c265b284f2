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
}

/// Why the node could not serve a request; rendered as a Redis error line.
public enum BackendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No leader is known (election in progress, or this node is partitioned).
    case noLeader
    /// This member is not the leader and could not forward the request to the leader with this Raft id.
    case notLeader(leader: UInt64)
    /// A retryable refusal (proposal barrier, leadership change mid-request); the client should retry.
    case tryAgain(String)
    /// The request timed out waiting for commit or apply; the write may still take effect.
    case timeout
    /// The node halted apply or otherwise cannot serve; the text explains.
    case unavailable(String)

    /// The error line a Redis client receives.
    public var redisMessage: String {
        switch self {
        case .noLeader: return "CLUSTERDOWN no Raft leader is known; retry once a leader is elected"
        case .notLeader(let leader): return "TRYAGAIN this node is not the leader (member \(leader)) and cannot reach it"
        case .tryAgain(let reason): return "TRYAGAIN \(reason)"
        case .timeout: return "ERR timed out waiting for the write to be applied; it may still take effect"
        case .unavailable(let reason): return "ERR node unavailable: \(reason)"
        }
    }

    public var description: String { redisMessage }
}
