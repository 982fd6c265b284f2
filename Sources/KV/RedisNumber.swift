/// Parses and prints numbers exactly as Redis does for INCR and INCRBYFLOAT.
public enum RedisNumber {
    /// A strict signed 64-bit decimal: optional `-`, no `+`, no spaces, no leading zeros, no `-0`.
    public static func parseInteger(_ bytes: [UInt8]) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        let negative = bytes[0] == UInt8(ascii: "-")
        let digits = negative ? bytes.dropFirst() : bytes[...]
        guard let first = digits.first, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if first == 0x30 && (digits.count > 1 || negative) { return nil }
        return Int64(String(decoding: bytes, as: UTF8.self))
    }

    /// A float as Redis reads one (`string2ld`): decimal or hexadecimal, `inf` / `infinity` with an optional
    /// sign; no spaces, no NaN, nothing that overflows the double range or underflows to zero, at most
    /// ``maxFloatBytes`` bytes. Infinity is returned as such: the callers answer it with Redis's errors.
    public static func parseFloat(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count < maxFloatBytes,
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Double(text), !value.isNaN else { return nil }
        let unsigned = text.lowercased().drop { $0 == "+" || $0 == "-" }
        if value.isInfinite { return unsigned == "inf" || unsigned == "infinity" ? value : nil }
        if value == 0 {
            // Underflow: a mantissa with a non-zero digit that still came out as zero.
            let mantissa = unsigned.hasPrefix("0x") ? unsigned.dropFirst(2).prefix { $0 != "p" }
                                                    : unsigned.prefix { $0 != "e" }
            guard !mantissa.contains(where: { $0.isHexDigit && $0 != "0" }) else { return nil }
        }
        return value
    }

    /// Redis's bound on the text of a float (`MAX_LONG_DOUBLE_CHARS`).
    public static let maxFloatBytes = 5 * 1024

    /// Prints a float the way INCRBYFLOAT answers: plain decimal, no exponent, no trailing zeros.
    public static func format(_ value: Double) -> String {
        precondition(value.isFinite, "INCRBYFLOAT results are checked to be finite before formatting")
        if value == value.rounded(), abs(value) < 1e17 { return String(Int64(value)) }
        let shortest = "\(value)"
        guard shortest.contains("e") else { return shortest }
        return expandExponent(shortest)
    }

    /// Rewrites `d.ddde±x` as plain decimal digits.
    private static func expandExponent(_ text: String) -> String {
        let parts = text.split(separator: "e")
        let exponent = Int(parts[1])!
        var mantissa = String(parts[0])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(pieces[0])
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        let digits = integer + fraction
        let point = integer.count + exponent
        var result: String
        if point <= 0 {
            result = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            result = digits + String(repeating: "0", count: point - digits.count)
        } else {
            result = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        if result.contains(".") {
            while result.hasSuffix("0") { result.removeLast() }
            if result.hasSuffix(".") { result.removeLast() }
        }
        return (negative ? "-" : "") + result
    }
}
