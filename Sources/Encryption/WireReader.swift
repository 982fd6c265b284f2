/// Reads big-endian fields from a payload, checking every length; the decoding half of the entry codecs.
struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of bytes not read yet.
    var remaining: Int { bytes.count - offset }

    mutating func u8(_ field: String) throws(EntryCodecError) -> UInt8 {
        try take(1, field).first!
    }

    mutating func u16(_ field: String) throws(EntryCodecError) -> UInt16 {
        UInt16(try integer(2, field))
    }

    mutating func u32(_ field: String) throws(EntryCodecError) -> UInt32 {
        UInt32(try integer(4, field))
    }

    mutating func u64(_ field: String) throws(EntryCodecError) -> UInt64 {
        try integer(8, field)
    }

    /// Reads a u16 count and checks it against `minimum...maximum` before anything is allocated for it.
    mutating func count(_ field: String, minimum: Int, maximum: Int) throws(EntryCodecError) -> Int {
        let value = Int(try u16(field))
        guard value >= minimum && value <= maximum else {
            throw .countOutOfRange(field: field, count: value, minimum: minimum, maximum: maximum)
        }
        return value
    }

    mutating func raw(_ count: Int, _ field: String) throws(EntryCodecError) -> [UInt8] {
        Array(try take(count, field))
    }

    /// Throws unless every byte was read.
    func finish() throws(EntryCodecError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    private mutating func integer(_ width: Int, _ field: String) throws(EntryCodecError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try take(width, field) { value = value << 8 | UInt64(byte) }
        return value
    }

    private mutating func take(_ count: Int, _ field: String) throws(EntryCodecError) -> ArraySlice<UInt8> {
        precondition(count >= 0, "a field length is never negative")
        guard count <= remaining else { throw .truncated(field: field) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
}
