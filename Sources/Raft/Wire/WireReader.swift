/// A bounds-checked big-endian reader over one received message, throwing ``WireCodecError``.
///
/// A thin layer over the storage's ``ByteReader`` so the wire and the disk formats share one integer
/// encoding, while the wire reports its own error type.
struct WireReader {
    private var reader: ByteReader

    init(_ bytes: [UInt8]) {
        reader = ByteReader(bytes)
    }

    var remaining: Int { reader.remaining }

    mutating func readUInt8() throws(WireCodecError) -> UInt8 {
        do { return try reader.readUInt8() } catch { throw WireCodecError(error) }
    }

    mutating func readUInt32() throws(WireCodecError) -> UInt32 {
        do { return try reader.readUInt32() } catch { throw WireCodecError(error) }
    }

    mutating func readUInt64() throws(WireCodecError) -> UInt64 {
        do { return try reader.readUInt64() } catch { throw WireCodecError(error) }
    }

    /// Reads a u32 length, checks it against `limit` and against the bytes left, then reads that many bytes.
    ///
    /// Both checks come before the allocation, so a forged length costs nothing.
    mutating func readLengthPrefixedBytes(field: String, limit: Int) throws(WireCodecError) -> [UInt8] {
        let length = try readUInt32()
        guard UInt64(length) <= UInt64(limit) else {
            throw .limitExceeded(field: field, value: UInt64(length), limit: limit)
        }
        do { return try reader.readBytes(Int(length)) } catch { throw WireCodecError(error) }
    }

    /// Throws unless at least `count` bytes are left.
    func require(_ count: Int) throws(WireCodecError) {
        guard count <= remaining else { throw .truncated(needed: count, available: remaining) }
    }

    /// Reads a membership in the layout of ``ConfigurationStateCodec`` version 1.
    mutating func readConfiguration() throws(WireCodecError) -> ConfigurationState {
        do { return try ConfigurationStateCodec.decode(from: &reader, version: 1) } catch {
            throw WireCodecError(error)
        }
    }

    /// Throws unless every byte was consumed.
    func requireEnd() throws(WireCodecError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
