import DurableIO
/// Builds a big-endian binary encoding into a byte array.
///
/// Every on-disk format of the Raft storage is written through this type (or DurableIO's `appendBigEndian`,
/// which it uses), so all integers are big-endian in one place.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func append<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        bytes.appendBigEndian(value)
    }

    mutating func append(contentsOf other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    /// Appends the CRC-32C of everything written so far.
    mutating func appendChecksum() {
        append(CRC32C.checksum(bytes))
    }
}
