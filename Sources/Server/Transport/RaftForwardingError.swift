/// Why a forwarded request got no answer from the leader.
///
/// The two cases that matter to a client differ in what left this node: after ``unavailable(address:reason:)``
/// the request was never handed to a connection, so it cannot take effect; after
/// ``outcomeUnknown(address:reason:)`` it may have reached the leader and may still apply (DESIGN §9), so a
/// write must not be retried blindly.
public enum RaftForwardingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The leader address is not `host:port`.
    case invalidAddress(String)
    /// The leader could not be reached; nothing was sent.
    case unavailable(address: String, reason: String)
    /// The request was sent (or may have been) and no answer arrived: the deadline passed or the
    /// connection failed afterwards.
    case outcomeUnknown(address: String, reason: String)

    /// Whether the request may have taken effect.
    public var mayHaveTakenEffect: Bool {
        if case .outcomeUnknown = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .invalidAddress(let address):
            return "invalid leader address '\(address)'; expected host:port"
        case .unavailable(let address, let reason):
            return "the leader at \(address) is unreachable (\(reason)); nothing was sent"
        case .outcomeUnknown(let address, let reason):
            return "no answer from the leader at \(address) after the request was sent (\(reason))"
        }
    }
}
