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

    /// A finite decimal float (as Redis' `strtold` accepts it, without spaces, hex or inf/nan).
    public static func parseFloat(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 128 else { return nil }
        let allowed = Set("0123456789+-.eE".utf8)
        guard bytes.allSatisfy({ allowed.contains($0) }), let value = Double(String(decoding: bytes, as: UTF8.self)),
              value.isFinite
        else { return nil }
        return value
    }

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
