/// A `host:port` the admin client connects to, as given to `elastickv-admin --addr`.
///
/// Accepts `host:port`, `1.2.3.4:port` and `[ipv6]:port`; the port must be 1–65535. Parsing is separate from
/// connecting so a typo is reported before any network activity.
public struct AdminAddress: Sendable, Hashable, CustomStringConvertible {
    /// Why an address was not understood; the description is the line the CLI prints.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text as the operator typed it.
        public var input: String

        public var description: String {
            "invalid address '\(input)': expected host:port (or [ipv6]:port) with a port from 1 to 65535"
        }
    }

    /// A host name or an IP address, without brackets.
    public var host: String
    /// 1–65535.
    public var port: Int

    /// Parses `host:port`.
    ///
    /// - Throws: `ParseError` when the host is empty, the port is missing or out of range.
    public init(parsing text: String) throws(ParseError) {
        guard let colon = text.lastIndex(of: ":") else { throw ParseError(input: text) }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty, !host.contains("["), !host.contains("]"),
            let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port)
        else { throw ParseError(input: text) }
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
