/// Picks sections out of an `INFO` text, as Redis does for `INFO <section>`.
///
/// The text is a run of sections, each a `# Name` header line followed by `field:value` lines and a blank
/// line, separated by CRLF. `all`, `everything` and `default` (and no argument) select every section; any
/// other name selects the section of that name, case-insensitively; an unknown name selects nothing (Redis
/// answers an empty bulk string).
public enum InfoSections {
    public static func select(_ section: [UInt8]?, from text: String) -> String {
        guard let section else { return text }
        let wanted = String(decoding: section, as: UTF8.self).lowercased()
        if ["all", "everything", "default"].contains(wanted) { return text }
        var kept: [Substring] = []
        var keeping = false
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# ") { keeping = line.dropFirst(2).lowercased() == wanted }
            if keeping { kept.append(line) }
        }
        guard !kept.isEmpty else { return "" }
        if kept.last?.isEmpty == false { kept.append("") }
        return kept.joined(separator: "\r\n")
    }
}
