import DurableIO

/// Reads a Raft storage encoding from a byte array, throwing ``StorageFormatError`` instead of reading past the
/// end.
///
/// Decoders use it on untrusted bytes read back from disk or received from peers; the integer encoding is
/// DurableIO's ``BigEndianReader``.
struct ByteReader {
    private var reader: BigEndianReader

    /// A reader over `bytes[start..<end]`.
    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        reader = BigEndianReader(bytes, from: start, to: end)
    }

    var bytes: ArraySlice<UInt8> { reader.bytes }
    var position: Int { reader.position }
    var remaining: Int { reader.remaining }

    func require(_ count: Int) throws(StorageFormatError) {
        do { try reader.require(count) } catch { throw .truncated(needed: error.needed, available: error.available) }
    }

    mutating func readUInt8() throws(StorageFormatError) -> UInt8 { try read() }
    mutating func readUInt16() throws(StorageFormatError) -> UInt16 { try read() }
    mutating func readUInt32() throws(StorageFormatError) -> UInt32 { try read() }
    mutating func readUInt64() throws(StorageFormatError) -> UInt64 { try read() }

    mutating func readBytes(_ count: Int) throws(StorageFormatError) -> [UInt8] {
        do { return Array(try reader.readBytes(count)) } catch {
            throw .truncated(needed: error.needed, available: error.available)
        }
    }

    /// Reads a trailing CRC-32C and checks it against every byte from `start` up to the checksum.
    mutating func readAndVerifyChecksum(coveringFrom start: Int) throws(StorageFormatError) {
        let covered = reader.bytes[start..<reader.position]
        let stored = try readUInt32()
        let actual = CRC32C.update(0, covered)
        guard stored == actual else { throw .checksumMismatch(stored: stored, computed: actual) }
    }

    /// Throws unless every byte was consumed.
    func requireEnd() throws(StorageFormatError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }

    private mutating func read<Value: FixedWidthInteger & UnsignedInteger>() throws(StorageFormatError) -> Value {
        do { return try reader.read() } catch { throw .truncated(needed: error.needed, available: error.available) }
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
