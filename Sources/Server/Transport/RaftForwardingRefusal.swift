import Raft

/// Why a member did not carry out a forwarded request, and where the leader is, when it knows.
public struct RaftForwardingRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for the operator and the client (never empty).
    public var reason: String
    /// The leader's Raft id, when known.
    public var leaderID: NodeID?
    /// The leader's Raft transport address (`host:port`), when known.
    public var leaderAddress: String?

    public init(reason: String, leaderID: NodeID? = nil, leaderAddress: String? = nil) {
        precondition(!reason.isEmpty, "a refusal needs a reason")
        self.reason = reason
        self.leaderID = leaderID
        self.leaderAddress = leaderAddress
    }

    public var description: String {
        reason + (leaderAddress.map { "; the leader is at \($0)" } ?? "")
    }
}
