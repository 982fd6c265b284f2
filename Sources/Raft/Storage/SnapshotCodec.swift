import DurableIO
/// The byte format of a snapshot file `<dir>/snap/<index>-<term>.snap`.
///
/// ```
/// off    size  field
/// 0      4     magic "EKSN" (0x454B534E)
/// 4      2     format version (u16) = 1; also selects the configuration layout
/// 6      2     reserved, 0
/// 8      8     index (u64); 0 only for the bootstrap snapshot, which has term 0 and no data
/// 16     8     term (u64), at least 1 unless index is 0
/// 24     4     configuration length C (u32)
/// 28     C     ConfigurationState (see ConfigurationStateCodec)
/// 28+C   8     data length D (u64)
/// 36+C   D     state-machine data
/// 36+C+D 4     CRC-32C over bytes 0..<36+C+D
/// ```
/// File name: index and term as 20 zero-padded decimal digits each, `-` between, `.snap` after.
enum SnapshotCodec {
    static let magic: UInt32 = 0x454B_534E
    static let currentVersion: UInt16 = 1
    static let fileExtension = ".snap"
    /// Bytes of a snapshot file other than the configuration and data.
    static let fixedOverhead = 40

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var configuration = ByteWriter()
        ConfigurationStateCodec.encode(snapshot.metadata.configuration, into: &configuration)
        var writer = ByteWriter(capacity: fixedOverhead + configuration.bytes.count + snapshot.data.count)
        writer.append(magic)
        writer.append(currentVersion)
        writer.append(UInt16(0))
        writer.append(snapshot.metadata.index)
        writer.append(snapshot.metadata.term)
        writer.append(UInt32(configuration.bytes.count))
        writer.append(contentsOf: configuration.bytes)
        writer.append(UInt64(snapshot.data.count))
        writer.append(contentsOf: snapshot.data)
        writer.appendChecksum()
        return writer.bytes
    }

    /// Decodes and verifies a whole snapshot file.
    ///
    /// - Parameter maxDataBytes: data lengths above this are rejected before any allocation.
    static func decode(_ bytes: [UInt8], maxDataBytes: Int) throws(StorageFormatError) -> Snapshot {
        var reader = ByteReader(bytes)
        let magic = try reader.readUInt32()
        let version = try reader.readUInt16()
        guard magic == Self.magic else { throw .badMagic(magic) }
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        guard bytes.count >= 4 else { throw .truncated(needed: 4, available: bytes.count) }
        var checksumReader = ByteReader(bytes, from: bytes.count - 4)
        let stored = try checksumReader.readUInt32()
        let computed = CRC32C.update(0, bytes[0..<(bytes.count - 4)])
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        return try decodeVerifiedBody(bytes, reader: &reader, version: version, maxDataBytes: maxDataBytes)
    }

    private static func decodeVerifiedBody(
        _ bytes: [UInt8],
        reader: inout ByteReader,
        version: UInt16,
        maxDataBytes: Int
    ) throws(StorageFormatError) -> Snapshot {
        let reserved = try reader.readUInt16()
        guard reserved == 0 else { throw .invalidField("snapshot reserved bytes \(reserved)") }
        let index = try reader.readUInt64()
        let term = try reader.readUInt64()
        let configurationLength = Int(try reader.readUInt32())
        try reader.require(configurationLength)
        var configurationReader = ByteReader(bytes, from: reader.position, to: reader.position + configurationLength)
        let configuration = try ConfigurationStateCodec.decode(from: &configurationReader, version: version)
        try configurationReader.requireEnd()
        _ = try reader.readBytes(configurationLength)
        let dataLength = try reader.readUInt64()
        guard dataLength <= UInt64(maxDataBytes) else { throw .invalidField("snapshot data length \(dataLength)") }
        let data = try reader.readBytes(Int(dataLength))
        _ = try reader.readUInt32()
        try reader.requireEnd()
        guard (index == 0) == (term == 0) else {
            throw .invalidField("snapshot index \(index) with term \(term); only the bootstrap snapshot has both 0")
        }
        guard index > 0 || dataLength == 0 else { throw .invalidField("bootstrap snapshot carries data") }
        let metadata = SnapshotMetadata(index: index, term: term, configuration: configuration)
        return Snapshot(metadata: metadata, data: data)
    }

    static func fileName(index: UInt64, term: UInt64) -> String {
        paddedDecimal(index) + "-" + paddedDecimal(term) + fileExtension
    }

    /// The index and term a snapshot file name encodes; `nil` for any other name.
    static func indexAndTerm(fromFileName name: String) -> (index: UInt64, term: UInt64)? {
        guard name.hasSuffix(fileExtension) else { return nil }
        let stem = name.dropLast(fileExtension.count)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = parsePaddedDecimal(parts[0]), let term = parsePaddedDecimal(parts[1]) else {
            return nil
        }
        return (index, term)
    }
}
