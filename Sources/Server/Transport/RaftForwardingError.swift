/// Why a forwarded request got no answer from the leader.
///
/// The request may or may not have taken effect when the error is ``timedOut(address:)`` or
/// ``failed(address:reason:)``: a write forwarded again may then apply twice, so callers report these to
/// their client rather than retrying writes blindly.
public enum RaftForwardingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The leader address is not `host:port`.
    case invalidAddress(String)
    /// The leader could not be reached; nothing was sent.
    case unavailable(address: String, reason: String)
    /// No answer within the client's request timeout.
    case timedOut(address: String)
    /// The call failed for another reason (the gRPC status, or a transport error).
    case failed(address: String, reason: String)

    public var description: String {
        switch self {
        case .invalidAddress(let address):
            return "invalid leader address '\(address)'; expected host:port"
        case .unavailable(let address, let reason):
            return "the leader at \(address) is unreachable (\(reason)); retry once a leader is known"
        case .timedOut(let address):
            return "the leader at \(address) did not answer in time; the request may still take effect"
        case .failed(let address, let reason):
            return "the request to the leader at \(address) failed: \(reason); it may still take effect"
        }
    }
}
