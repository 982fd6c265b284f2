import RESP

/// What `CONFIG GET` reports and `CONFIG SET` refuses: the parameters clients and tools ask for, with the
/// values this node really has. Every one is fixed by elastickv's command line or by design, so CONFIG SET
/// changes nothing; secrets (the Redis password) are never reported.
public struct ServerConfig: Sendable {
    /// Parameter names and values, in the order CONFIG GET lists them.
    public let parameters: [(name: String, value: String)]

    /// - Parameter maxValueBytes: `--max-value-bytes` (Redis's `proto-max-bulk-len`).
    public init(maxValueBytes: Int) {
        parameters = [
            // Every write is fsynced to the Raft log on a quorum before it is answered.
            ("appendonly", "yes"), ("appendfsync", "always"), ("save", ""),
            ("maxmemory", "0"), ("maxmemory-policy", "noeviction"),
            ("databases", "16"), ("proto-max-bulk-len", String(maxValueBytes)),
            ("timeout", "0"), ("notify-keyspace-events", ""), ("cluster-enabled", "no"),
            ("lua-time-limit", "5000"), ("busy-reply-threshold", "5000"),
        ]
    }

    /// - Parameter live: parameters the listener holds and may change (the slow log's …), listed after the
    ///   fixed ones.
    public func answer(_ subcommand: ConfigCommand, live: [(name: String, value: String)] = []) -> RESPValue {
        let parameters = parameters + live
        switch subcommand {
        case .get(let patterns):
            var seen = Set<String>()
            var pairs: [RESPValue.Pair] = []
            for pattern in patterns {
                let lowered = Array(String(decoding: pattern, as: UTF8.self).lowercased().utf8)
                // Like Redis, a name without wildcards is answered under the spelling the client used.
                let literal = !pattern.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
                for (name, value) in parameters where !seen.contains(name) && GlobPattern.matches(lowered, Array(name.utf8)) {
                    seen.insert(name)
                    pairs.append(.init(.bulkString(literal ? pattern : Array(name.utf8)), .bulkString(Array(value.utf8))))
                }
            }
            return .map(pairs)
        case .set(let pairs):
            // Every parameter here is fixed; the first one named is the one reported.
            let text = String(decoding: pairs.first ?? [], as: UTF8.self)
            guard parameters.contains(where: { $0.name == text.lowercased() }) else {
                return .error("ERR Unknown option or number of arguments for CONFIG SET - '\(text)'")
            }
            return .error("ERR CONFIG SET failed (possibly related to argument '\(text)') - elastickv fixes this "
                + "parameter at start-up; change the node's command line instead")
        case .resetStatistics:
            return .ok
        case .rewrite:
            return .error("ERR The server is running without a config file")
        }
    }
}

/// `CONFIG GET pattern…`, `CONFIG SET name value…`, `CONFIG RESETSTAT`, `CONFIG REWRITE`.
public enum ConfigCommand: Hashable, Sendable {
    case get([[UInt8]])
    /// Names and values, alternating (at least one pair).
    case set([[UInt8]])
    case resetStatistics
    case rewrite
}
