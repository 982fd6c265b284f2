import Raft

/// Why a member did not carry out a forwarded request, and where the leader is, when it knows.
///
/// On the wire the reason is the member's own Redis error line (`TRYAGAIN …`, `CLUSTERDOWN …`, `AMBIGUOUS …`),
/// so its first word says whether the outcome is known: only `AMBIGUOUS` means the request may still apply.
public struct RaftForwardingRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for the operator and the client (never empty).
    public var reason: String
    /// The leader's Raft id, when known.
    public var leaderID: NodeID?
    /// The leader's Raft transport address (`host:port`), when known.
    public var leaderAddress: String?

    /// The error code word that marks an unknown outcome.
    static let ambiguousCode = "AMBIGUOUS"

    public init(reason: String, leaderID: NodeID? = nil, leaderAddress: String? = nil) {
        precondition(!reason.isEmpty, "a refusal needs a reason")
        self.reason = reason
        self.leaderID = leaderID
        self.leaderAddress = leaderAddress
    }

    /// Whether the refused request may still take effect (the member answered `AMBIGUOUS`).
    public var outcomeUnknown: Bool {
        reason == Self.ambiguousCode || reason.hasPrefix(Self.ambiguousCode + " ")
    }

    public var description: String {
        reason + (leaderAddress.map { "; the leader is at \($0)" } ?? "")
    }
}
