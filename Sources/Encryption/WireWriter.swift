import DurableIO

/// Appends big-endian fields to a byte buffer; the encoding half of the entry codecs.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes.appendBigEndian(value) }
    mutating func u32(_ value: UInt32) { bytes.appendBigEndian(value) }
    mutating func u64(_ value: UInt64) { bytes.appendBigEndian(value) }

    /// Writes a count as u16; the caller has checked it against its named limit.
    mutating func count(_ value: Int) {
        precondition(value >= 0 && value <= Int(UInt16.max), "an entry count must fit in u16 before encoding")
        u16(UInt16(value))
    }

    mutating func raw(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }
}
