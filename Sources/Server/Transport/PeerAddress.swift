import GRPCNIOTransportHTTP2Posix

/// A peer's `host:port`, parsed once so a bad address is refused when it is configured, not when used.
struct PeerAddress: Sendable, Hashable {
    /// The host name or IP address, without IPv6 brackets.
    let host: String
    let port: Int
    /// Whether `host` was written in brackets (an IPv6 literal).
    let isIPv6Literal: Bool

    /// Parses `host:port` or `[ipv6]:port`.
    init(parsing text: String) throws(RaftTransportError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw .invalidPeerAddress(text) }
        var host = String(text[..<colon])
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2
        if bracketed { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, bracketed || !host.contains(where: { ":[]".contains($0) }) else {
            throw .invalidPeerAddress(text)
        }
        self.host = host
        self.port = port
        self.isIPv6Literal = bracketed
    }

    /// The gRPC target that connects to this address.
    var target: any ResolvableTarget {
        if isIPv6Literal { return ResolvableTargets.IPv6.ipv6(host: host, port: port) }
        return ResolvableTargets.DNS(host: host, port: port)
    }
}
