/// Why the Raft transport refused a request.
public enum RaftTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A peer address is not `host:port` with a port in 1...65535 (IPv6 hosts in brackets).
    case invalidPeerAddress(String)

    public var description: String {
        switch self {
        case .invalidPeerAddress(let address):
            return "invalid raft peer address '\(address)'; give host:port, e.g. 10.0.0.2:7001 or [::1]:7001"
        }
    }
}
