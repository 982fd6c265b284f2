/// Redis glob matching for KEYS and SCAN MATCH: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` escapes.
public enum GlobPattern {
    /// The most pattern steps one match may take; a pathological pattern then simply does not match.
    static let maxSteps = 1_000_000

    /// Whether `text` matches `pattern`.
    public static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var steps = 0
        return match(pattern[...], text[...], &steps)
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>, _ steps: inout Int) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            steps += 1
            if steps > maxSteps { return false }
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p + 1 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "*") { p += 1 }
                if p + 1 == pattern.endIndex { return true }
                var start = t
                while start <= text.endIndex {
                    if match(pattern[(p + 1)...], text[start...], &steps) { return true }
                    if steps > maxSteps { return false }
                    start += 1
                }
                return false
            case UInt8(ascii: "?"):
                guard t < text.endIndex else { return false }
                t += 1
            case UInt8(ascii: "["):
                guard t < text.endIndex, let (matched, next) = matchClass(pattern, p + 1, text[t]), matched else {
                    return false
                }
                p = next
                t += 1
                continue
            case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                p += 1
                guard t < text.endIndex, pattern[p] == text[t] else { return false }
                t += 1
            default:
                guard t < text.endIndex, pattern[p] == text[t] else { return false }
                t += 1
            }
            p += 1
        }
        return t == text.endIndex
    }

    /// Matches one byte against the class starting after `[`; returns the match and the index after `]`.
    private static func matchClass(_ pattern: ArraySlice<UInt8>, _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var p = start
        let negate = p < pattern.endIndex && pattern[p] == UInt8(ascii: "^")
        if negate { p += 1 }
        var matched = false
        while p < pattern.endIndex && pattern[p] != UInt8(ascii: "]") {
            if pattern[p] == UInt8(ascii: "\\") && p + 1 < pattern.endIndex {
                p += 1
                if pattern[p] == byte { matched = true }
            } else if p + 2 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "-")
                && pattern[p + 2] != UInt8(ascii: "]") {
                let low = min(pattern[p], pattern[p + 2]), high = max(pattern[p], pattern[p + 2])
                if byte >= low && byte <= high { matched = true }
                p += 2
            } else if pattern[p] == byte {
                matched = true
            }
            p += 1
        }
        // An unterminated class matches like Redis: up to the end of the pattern.
        let next = p < pattern.endIndex ? p + 1 : p
        return (negate ? !matched : matched, next)
    }
}
