/// Strict decoding of standard base64 (RFC 4648 §4) into caller-owned memory, for secrets.
///
/// Foundation's decoder returns a `Data` the caller cannot zero reliably; this one writes into a buffer the
/// caller zeroes. It accepts surrounding ASCII whitespace, requires a length that is a multiple of 4 and allows
/// `=` padding only at the end.
enum StrictBase64 {
    /// Decodes `text` into the start of `output`.
    ///
    /// - Precondition: `output.count >= text.count / 4 * 3`.
    /// - Returns: the number of bytes written, or `nil` when `text` is not valid base64.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        var start = 0
        var end = text.count
        while start < end, isWhitespace(text[start]) { start += 1 }
        while end > start, isWhitespace(text[end - 1]) { end -= 1 }
        let length = end - start
        guard length % 4 == 0 else { return nil }
        precondition(output.count >= length / 4 * 3, "base64 output buffer too small")
        var padding = 0
        if length > 0, text[end - 1] == UInt8(ascii: "=") { padding += 1 }
        if length > 1, text[end - 2] == UInt8(ascii: "=") { padding += 1 }
        var written = 0
        var index = start
        while index < end {
            var group: UInt32 = 0
            for offset in 0..<4 {
                let position = index + offset
                let isPadding = position >= end - padding
                guard let value = isPadding ? 0 : sextet(text[position]) else { return nil }
                group = group << 6 | UInt32(value)
            }
            let produced = index + 4 == end ? 3 - padding : 3
            for shift in 0..<produced {
                output[written] = UInt8(truncatingIfNeeded: group >> (16 - 8 * shift))
                written += 1
            }
            index += 4
        }
        return written
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
