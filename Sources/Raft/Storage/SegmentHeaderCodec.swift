/// The header at the start of every log segment file, and the segment file names.
///
/// ```
/// off  size  field
/// 0    4     magic "EKVL" (0x454B564C)
/// 4    2     format version (u16) = 1; governs the record layout of the whole segment
/// 6    2     reserved, 0
/// 8    8     index of the first record in the segment (u64), equal to the number in the file name
/// 16   4     CRC-32C over bytes 0..<16
/// ```
/// File name: the first index as 20 decimal digits, zero-padded, then `.seg`, so names sort by index.
enum SegmentHeaderCodec {
    static let magic: UInt32 = 0x454B_564C
    static let currentVersion: UInt16 = 1
    static let size = 20
    static let fileExtension = ".seg"

    static func encode(firstIndex: UInt64) -> [UInt8] {
        precondition(firstIndex >= 1, "a segment starts at index 1 or later")
        var writer = ByteWriter(capacity: size)
        writer.append(magic)
        writer.append(currentVersion)
        writer.append(UInt16(0))
        writer.append(firstIndex)
        writer.appendChecksum()
        return writer.bytes
    }

    /// Decodes and verifies a segment header.
    ///
    /// - Returns: the first index the header names.
    static func decode(_ bytes: [UInt8]) throws(StorageFormatError) -> UInt64 {
        var reader = ByteReader(bytes, to: min(bytes.count, size))
        try reader.require(size)
        let magic = try reader.readUInt32()
        let version = try reader.readUInt16()
        let reserved = try reader.readUInt16()
        let firstIndex = try reader.readUInt64()
        try reader.readAndVerifyChecksum(coveringFrom: 0)
        guard magic == Self.magic else { throw .badMagic(magic) }
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        guard reserved == 0 else { throw .invalidField("segment header reserved bytes \(reserved)") }
        guard firstIndex >= 1 else { throw .invalidField("segment first index 0") }
        return firstIndex
    }

    static func fileName(firstIndex: UInt64) -> String {
        paddedDecimal(firstIndex) + fileExtension
    }

    /// The first index encoded in a segment file name; `nil` for any other name.
    static func firstIndex(fromFileName name: String) -> UInt64? {
        guard name.hasSuffix(fileExtension) else { return nil }
        return parsePaddedDecimal(name.dropLast(fileExtension.count))
    }
}

/// `value` as exactly 20 decimal digits (the width of `UInt64.max`), zero-padded.
func paddedDecimal(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 20 - digits.count) + digits
}

/// The value of exactly 20 decimal digits; `nil` for anything else.
func parsePaddedDecimal(_ text: Substring) -> UInt64? {
    guard text.utf8.count == 20, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        return nil
    }
    return UInt64(text)
}
