import DurableIO
/// Reads a big-endian binary encoding from a byte array, throwing instead of reading past the end.
///
/// Decoders use it on untrusted bytes read back from disk: every read is bounds-checked and reports how
/// many bytes were missing.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// A reader over `bytes[start..<end]`.
    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
        precondition(start >= 0 && start <= self.end && self.end <= bytes.count, "reader bounds are outside the bytes")
    }

    var remaining: Int { end - position }

    mutating func require(_ count: Int) throws(StorageFormatError) {
        guard count >= 0, remaining >= count else {
            throw .truncated(needed: count, available: remaining)
        }
    }

    mutating func readUInt8() throws(StorageFormatError) -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readUInt16() throws(StorageFormatError) -> UInt16 {
        try require(2)
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    mutating func readUInt32() throws(StorageFormatError) -> UInt32 {
        try require(4)
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(bytes[position + offset]) }
        position += 4
        return value
    }

    mutating func readUInt64() throws(StorageFormatError) -> UInt64 {
        try require(8)
        var value: UInt64 = 0
        for offset in 0..<8 { value = value << 8 | UInt64(bytes[position + offset]) }
        position += 8
        return value
    }

    mutating func readBytes(_ count: Int) throws(StorageFormatError) -> [UInt8] {
        try require(count)
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Reads a trailing CRC-32C and checks it against every byte from `start` up to the checksum.
    mutating func readAndVerifyChecksum(coveringFrom start: Int) throws(StorageFormatError) {
        let covered = bytes[start..<position]
        let stored = try readUInt32()
        let actual = CRC32C.update(0, covered)
        guard stored == actual else { throw .checksumMismatch(stored: stored, computed: actual) }
    }

    /// Throws unless every byte was consumed.
    func requireEnd() throws(StorageFormatError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}

/// Reads a big-endian `UInt32` at `offset` without bounds checks beyond the array's own.
@inline(__always)
func readBigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
        | UInt32(bytes[offset + 3])
}

/// Reads a big-endian `UInt64` at `offset`.
@inline(__always)
func readBigEndianUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    var value: UInt64 = 0
    for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
    return value
}
