import GRPCCore

/// Why a raw key-value operation failed; each case maps to one gRPC status.
public enum RawKeyValueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// This node cannot serve the request and did not forward it; carries the leader's address when known.
    case notLeader(leaderAddress: String?)
    /// The request is malformed or over a limit (for example a value larger than the node accepts).
    case invalidArgument(String)
    /// The node cannot serve right now (shutting down, no quorum); retrying later may succeed.
    case unavailable(String)
    /// The outcome is unknown (deadline passed, leadership lost after the write was appended): a write may
    /// still take effect; read before retrying.
    case ambiguous(String)
    /// Anything else; the reason never contains key or value bytes.
    case failed(String)

    public var description: String {
        switch self {
        case .notLeader(let address?): return "this node is not the leader; the leader is at \(address)"
        case .notLeader(nil): return "this node is not the leader and no leader is known yet; retry"
        case .invalidArgument(let reason): return reason
        case .unavailable(let reason): return reason
        case .ambiguous(let reason): return "AMBIGUOUS \(reason)"
        case .failed(let reason): return reason
        }
    }

    /// The gRPC status a client sees for this error.
    ///
    /// `notLeader` with a known leader is `FAILED_PRECONDITION` with the address also in the
    /// `elastickv-leader-addr` trailer; without one it is `UNAVAILABLE` (retry).
    public var rpcError: RPCError {
        switch self {
        case .notLeader(let address?):
            return RPCError(
                code: .failedPrecondition, message: description,
                metadata: [RPCError.leaderAddressMetadataKey: .string(address)])
        case .notLeader(nil), .unavailable: return RPCError(code: .unavailable, message: description)
        case .invalidArgument: return RPCError(code: .invalidArgument, message: description)
        case .ambiguous: return RPCError(code: .deadlineExceeded, message: description)
        case .failed: return RPCError(code: .internalError, message: description)
        }
    }
}
