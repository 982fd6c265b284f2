/// The byte format of the hard-state file `<dir>/hardstate`.
///
/// ```
/// off  size  field
/// 0    4     magic "EKHS" (0x454B4853)
/// 4    2     format version (u16) = 1
/// 6    2     reserved, 0
/// 8    8     term (u64)
/// 16   8     vote (u64, 0 = none)
/// 24   8     commit (u64)
/// 32   4     CRC-32C over bytes 0..<32
/// ```
enum HardStateCodec {
    static let magic: UInt32 = 0x454B_4853
    static let currentVersion: UInt16 = 1
    static let size = 36

    static func encode(_ state: HardState) -> [UInt8] {
        var writer = ByteWriter(capacity: size)
        writer.append(magic)
        writer.append(currentVersion)
        writer.append(UInt16(0))
        writer.append(state.term)
        writer.append(state.vote)
        writer.append(state.commit)
        writer.appendChecksum()
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(StorageFormatError) -> HardState {
        var reader = ByteReader(bytes)
        try reader.require(size)
        let magic = try reader.readUInt32()
        let version = try reader.readUInt16()
        let reserved = try reader.readUInt16()
        let state = HardState(
            term: try reader.readUInt64(), vote: try reader.readUInt64(), commit: try reader.readUInt64())
        try reader.readAndVerifyChecksum(coveringFrom: 0)
        try reader.requireEnd()
        guard magic == Self.magic else { throw .badMagic(magic) }
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        guard reserved == 0 else { throw .invalidField("hard state reserved bytes \(reserved)") }
        return state
    }
}
