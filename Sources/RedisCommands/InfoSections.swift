/// Picks sections out of an `INFO` text, as Redis 7 does for `INFO [section …]`.
///
/// The text is a run of sections, each a `# Name` header line followed by `field:value` lines and a blank
/// line, separated by CRLF. No argument and `default` select every section but the per-command ones
/// (commandstats, latencystats); `all` and `everything` select every section; any other name selects the
/// section of that name, case-insensitively; names that match nothing select nothing (Redis answers an empty
/// bulk string when nothing matched).
public enum InfoSections {
    /// Sections only `all`, `everything` or their own name select.
    public static let notInDefault: Set<String> = ["commandstats", "latencystats"]

    /// Whether `INFO sections…` shows the section `name` (lower case).
    public static func selects(_ name: String, _ sections: [[UInt8]]) -> Bool {
        let wanted = sections.isEmpty ? ["default"] : sections.map { String(decoding: $0, as: UTF8.self).lowercased() }
        if wanted.contains("all") || wanted.contains("everything") || wanted.contains(name) { return true }
        return wanted.contains("default") && !notInDefault.contains(name)
    }

    public static func select(_ sections: [[UInt8]], from text: String) -> String {
        var kept: [Substring] = []
        var keeping = false
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# ") { keeping = selects(line.dropFirst(2).lowercased(), sections) }
            if keeping { kept.append(line) }
        }
        guard !kept.isEmpty else { return "" }
        if kept.last?.isEmpty == false { kept.append("") }
        return kept.joined(separator: "\r\n")
    }
}
