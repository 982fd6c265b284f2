import DurableIO

/// The byte format of a store snapshot: a checksummed stream of rows, values as stored.
///
/// ```
/// header   magic "EKVSNAP1" (8) ‖ format version u8 = 1 ‖ applied_index u64
/// record   tag u8 ‖ fields (per tag, below)
///   0x01 version   key_len u32 ‖ key ‖ ts u64 ‖ value_len u32 ‖ value (header ‖ body, sealed stays sealed)
///   0x02 meta      name_len u16 ‖ name (UTF-8) ‖ value_len u32 ‖ value
///   0x03 registry  dek_id u32 ‖ node16 u16 ‖ full_node_id u64 ‖ first u16 ‖ last u16
///   0x04 cursor    name_len u16 ‖ name ‖ key_len u32 ‖ key ‖ ts u64
/// trailer  0xFF ‖ record_count u64 ‖ crc32c u32 (CRC-32C of every byte before it)
/// ```
enum SnapshotStream {
    static let magic: [UInt8] = Array("EKVSNAP1".utf8)
    static let formatVersion: UInt8 = 1

    enum Tag: UInt8 {
        case version = 0x01
        case meta = 0x02
        case registry = 0x03
        case cursor = 0x04
        case trailer = 0xFF
    }

    /// The longest key or metadata name accepted in a snapshot.
    static let maxKeyBytes = 1 << 20
}

/// Appends big-endian integers and length-prefixed bytes to a buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes.appendBigEndian(value) }
    mutating func u32(_ value: UInt32) { bytes.appendBigEndian(value) }
    mutating func u64(_ value: UInt64) { bytes.appendBigEndian(value) }
    mutating func blob32(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    mutating func string16(_ value: String) {
        let utf8 = Array(value.utf8)
        u16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads a snapshot stream pulled chunk by chunk from a source, keeping a running CRC-32C.
struct SnapshotReader {
    private let source: () throws -> [UInt8]?
    private var buffer: [UInt8] = []
    private var position = 0
    private(set) var checksum: UInt32 = 0

    init(source: @escaping () throws -> [UInt8]?) {
        self.source = source
    }

    mutating func take(_ count: Int) throws(StorageError) -> ArraySlice<UInt8> {
        while buffer.count - position < count {
            let chunk: [UInt8]?
            do { chunk = try source() } catch {
                throw StorageError.corruptSnapshot(reason: "source failed: \(error)")
            }
            guard let chunk else { throw StorageError.corruptSnapshot(reason: "stream ends early") }
            buffer.removeFirst(position)
            position = 0
            buffer.append(contentsOf: chunk)
        }
        let slice = buffer[position..<(position + count)]
        position += count
        checksum = CRC32C.update(checksum, slice)
        return slice
    }

    mutating func u8() throws(StorageError) -> UInt8 { try integer() }
    mutating func u16() throws(StorageError) -> UInt16 { try integer() }
    mutating func u32() throws(StorageError) -> UInt32 { try integer() }
    mutating func u64() throws(StorageError) -> UInt64 { try integer() }

    mutating func blob32(max: Int) throws(StorageError) -> [UInt8] {
        let count = Int(try u32())
        guard count <= max else { throw StorageError.corruptSnapshot(reason: "field of \(count) bytes exceeds \(max)") }
        return Array(try take(count))
    }

    mutating func string16() throws(StorageError) -> String {
        let count = Int(try u16())
        guard let text = String(validating: try take(count), as: UTF8.self) else {
            throw StorageError.corruptSnapshot(reason: "name is not UTF-8")
        }
        return text
    }

    /// Whether the source has more bytes after what was read (pulls one more chunk to find out).
    mutating func atEnd() throws(StorageError) -> Bool {
        while position == buffer.count {
            let chunk: [UInt8]?
            do { chunk = try source() } catch {
                throw StorageError.corruptSnapshot(reason: "source failed: \(error)")
            }
            guard let chunk else { return true }
            buffer = chunk
            position = 0
        }
        return false
    }

    private mutating func integer<Value: FixedWidthInteger & UnsignedInteger>() throws(StorageError) -> Value {
        var reader = BigEndianReader(try take(Value.bitWidth / 8))
        guard let value = try? reader.read(Value.self) else { preconditionFailure("take returned the bytes asked for") }
        return value
    }
}
