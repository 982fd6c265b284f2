import DurableIO

/// Reads big-endian fields from a payload, checking every length; the decoding half of the entry codecs.
///
/// The integer encoding is DurableIO's ``BigEndianReader``; this type names the field that ran short.
struct WireReader {
    private var reader: BigEndianReader

    init(_ bytes: [UInt8]) {
        reader = BigEndianReader(bytes)
    }

    /// The number of bytes not read yet.
    var remaining: Int { reader.remaining }

    mutating func u8(_ field: String) throws(EntryCodecError) -> UInt8 { try read(field) }
    mutating func u16(_ field: String) throws(EntryCodecError) -> UInt16 { try read(field) }
    mutating func u32(_ field: String) throws(EntryCodecError) -> UInt32 { try read(field) }
    mutating func u64(_ field: String) throws(EntryCodecError) -> UInt64 { try read(field) }

    /// Reads a u16 count and checks it against `minimum...maximum` before anything is allocated for it.
    mutating func count(_ field: String, minimum: Int, maximum: Int) throws(EntryCodecError) -> Int {
        let value = Int(try u16(field))
        guard value >= minimum && value <= maximum else {
            throw .countOutOfRange(field: field, count: value, minimum: minimum, maximum: maximum)
        }
        return value
    }

    mutating func raw(_ count: Int, _ field: String) throws(EntryCodecError) -> [UInt8] {
        precondition(count >= 0, "a field length is never negative")
        do { return Array(try reader.readBytes(count)) } catch { throw .truncated(field: field) }
    }

    /// Throws unless every byte was read.
    func finish() throws(EntryCodecError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    private mutating func read<Value: FixedWidthInteger & UnsignedInteger>(_ field: String)
        throws(EntryCodecError) -> Value
    {
        do { return try reader.read() } catch { throw .truncated(field: field) }
    }
}
