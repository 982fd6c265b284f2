/// CRC-32C (Castagnoli), the checksum of every log record, segment header, hard-state file and snapshot.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, so the checksum of the ASCII
/// bytes "123456789" is 0xE3069283. Computed with slicing-by-8: eight 256-entry tables let the loop consume
/// eight bytes per step, which matters because every appended byte is checksummed on the write path.
public enum CRC32C {
    /// The reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight tables of 256 entries, stored flat: table `k` starts at `k * 256`.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[byte] = crc
        }
        for table in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(table - 1) * 256 + byte]
                tables[table * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        update(0, bytes[...])
    }

    /// Extends a checksum with more bytes: `update(checksum(a), b) == checksum(a + b)`.
    ///
    /// - Parameters:
    ///   - crc: the checksum of the bytes before `bytes` (0 for none).
    ///   - bytes: the bytes to add.
    public static func update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    /// Extends a checksum with the bytes of a raw buffer.
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var state = ~crc
            var position = 0
            let count = buffer.count
            while count - position >= 8 {
                let low =
                    (UInt32(buffer[position]) | UInt32(buffer[position + 1]) << 8
                        | UInt32(buffer[position + 2]) << 16 | UInt32(buffer[position + 3]) << 24) ^ state
                let high =
                    UInt32(buffer[position + 4]) | UInt32(buffer[position + 5]) << 8
                    | UInt32(buffer[position + 6]) << 16 | UInt32(buffer[position + 7]) << 24
                state =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                position += 8
            }
            while position < count {
                state = table[Int((state ^ UInt32(buffer[position])) & 0xFF)] ^ (state >> 8)
                position += 1
            }
            return ~state
        }
    }
}
