/// How Redis 7.0 reads the words of an ACL rule: keywords, digests, patterns and a selector's body.
///
/// Redis compares keywords, command and category names as C strings, so a NUL byte ends them (`on\0x` is
/// `on`), while passwords and key and channel patterns keep every byte. These helpers keep that distinction in
/// one place.
enum ACLRules {
    /// The bytes before the first NUL: what Redis's C string functions see of a rule.
    static func cString(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 })
    }

    /// A rule as Redis prints it in an error (`%s`): up to its first NUL.
    static func printed(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: cString(bytes), as: UTF8.self)
    }

    /// Whether `word` (already cut at its NUL) is `keyword` in any ASCII case (`strcasecmp`).
    static func isKeyword(_ word: [UInt8], _ keyword: String) -> Bool {
        let expected = Array(keyword.utf8)
        guard word.count == expected.count else { return false }
        return zip(word, expected).allSatisfy { folded($0) == folded($1) }
    }

    /// Whether two C strings are equal in any ASCII case (`strcasecmp`), each read up to its first NUL.
    static func equalIgnoringCase(_ left: some Collection<UInt8>, _ right: some Collection<UInt8>) -> Bool {
        let left = cString(left), right = cString(right)
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { folded($0) == folded($1) }
    }

    static func folded(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Whether a pattern or user name holds a byte C's `isspace` accepts (space, `\t \n \v \f \r`) or NUL, which
    /// Redis refuses so that `ACL LIST` can be read back word by word.
    static func hasSpaceOrNUL(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.contains { $0 == 0x20 || (0x09...0x0D).contains($0) || $0 == 0 }
    }

    /// Whether `bytes` is a password digest as Redis stores one: 64 lower-case hex digits.
    static func isPasswordDigest(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count == 64 && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The SHA-256 of a password in lower-case hex, as Redis stores and prints it (`#<digest>`).
    static func passwordDigest(_ password: some Collection<UInt8>) -> String {
        ScriptDigest.sha256Hex(Array(password))
    }

    /// The rules inside a selector's parentheses, split as Redis's `sdssplitargs` splits them: blanks between
    /// words, `"…"` with `\n \r \t \b \a \xHH` escapes, `'…'` with `\'`; a NUL ends the text.
    ///
    /// - Returns: nil for unbalanced quotes, or a closing quote not followed by a blank. Redis then makes the
    ///   selector from no rules at all, so that `("~a"x)` adds an empty selector rather than failing.
    static func selectorWords(_ body: some Collection<UInt8>) -> [[UInt8]]? {
        let text = cString(body)
        var words: [[UInt8]] = []
        var index = 0
        while true {
            while index < text.count && isBlank(text[index]) { index += 1 }
            guard index < text.count else { return words }
            guard let (word, next) = selectorWord(text, from: index) else { return nil }
            words.append(word)
            index = next
        }
    }

    /// One word of a selector's body starting at `start`, and the index after it (and after the blank that ended
    /// it); nil for a quoting error.
    private static func selectorWord(_ text: [UInt8], from start: Int) -> ([UInt8], Int)? {
        enum Quoting { case none, double, single }
        var word: [UInt8] = []
        var quoting = Quoting.none
        var index = start
        func byte(_ offset: Int) -> UInt8 { index + offset < text.count ? text[index + offset] : 0 }
        while true {
            let current = byte(0)
            switch quoting {
            case .double:
                if current == UInt8(ascii: "\\"), byte(1) == UInt8(ascii: "x"), let high = hexValue(byte(2)),
                    let low = hexValue(byte(3))
                {
                    word.append(high << 4 | low)
                    index += 3
                } else if current == UInt8(ascii: "\\"), byte(1) != 0 {
                    index += 1
                    word.append(escaped(byte(0)))
                } else if current == UInt8(ascii: "\"") {
                    guard byte(1) == 0 || isBlank(byte(1)) else { return nil }
                    return (word, index + 2)
                } else if current == 0 {
                    return nil
                } else {
                    word.append(current)
                }
            case .single:
                if current == UInt8(ascii: "\\"), byte(1) == UInt8(ascii: "'") {
                    index += 1
                    word.append(UInt8(ascii: "'"))
                } else if current == UInt8(ascii: "'") {
                    guard byte(1) == 0 || isBlank(byte(1)) else { return nil }
                    return (word, index + 2)
                } else if current == 0 {
                    return nil
                } else {
                    word.append(current)
                }
            case .none:
                switch current {
                case 0x20, 0x0A, 0x0D, 0x09, 0: return (word, index + 1)
                case UInt8(ascii: "\""): quoting = .double
                case UInt8(ascii: "'"): quoting = .single
                default: word.append(current)
                }
            }
            index += 1
        }
    }

    /// C's `isspace` in the C locale.
    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    private static func escaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return byte
        }
    }
}
