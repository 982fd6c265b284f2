/// Appends big-endian fields to a byte buffer; the encoding half of the entry codecs.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Writes a count as u16; the caller has checked it against its named limit.
    mutating func count(_ value: Int) {
        precondition(value >= 0 && value <= Int(UInt16.max), "an entry count must fit in u16 before encoding")
        u16(UInt16(value))
    }

    mutating func raw(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }
}
