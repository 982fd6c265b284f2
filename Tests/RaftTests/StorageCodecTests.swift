import DurableIO
import TestSupport
import Testing

@testable import Raft

/// Known answers and malformed-input rejection for every on-disk format of the Raft storage.
@Suite struct StorageCodecTests {
    // MARK: - CRC-32C

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test func crc32cSlicingAgreesWithBitwiseReferenceAndIsIncremental() {
        var random = SplitMix64(seed: 11)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(CRC32C.checksum(bytes) == bitwiseCRC32C(bytes), "length \(length)")
            let split = length / 3
            #expect(CRC32C.update(CRC32C.checksum(Array(bytes[..<split])), bytes[split...]) == CRC32C.checksum(bytes))
        }
    }

    // MARK: - Records

    @Test func recordRoundTripsEveryKind() throws {
        for kind in [EntryKind.normal, .configurationChange] {
            let entry = Entry(term: 7, index: 42, kind: kind, data: Array(0..<50))
            var bytes: [UInt8] = [0xAA]
            LogRecordCodec.encode(entry, into: &bytes)
            #expect(bytes.count == 1 + LogRecordCodec.encodedSize(of: entry))
            let decoded = try LogRecordCodec.decode(bytes, at: 1, maxRecordBytes: 1024)
            #expect(decoded.entry == entry)
            #expect(decoded.size == LogRecordCodec.encodedSize(of: entry))
        }
    }

    @Test func recordRejectsEveryTruncationAndEveryFlippedByte() {
        var bytes: [UInt8] = []
        LogRecordCodec.encode(Entry(term: 3, index: 9, data: [1, 2, 3, 4, 5]), into: &bytes)
        for length in 0..<bytes.count {
            #expect(throws: StorageFormatError.self) {
                try LogRecordCodec.decode(Array(bytes[..<length]), at: 0, maxRecordBytes: 1024)
            }
        }
        for position in bytes.indices {
            var damaged = bytes
            damaged[position] ^= 0x10
            #expect(throws: StorageFormatError.self, "byte \(position)") {
                try LogRecordCodec.decode(damaged, at: 0, maxRecordBytes: 1024)
            }
        }
    }

    @Test func recordRejectsUnknownKindEvenWithAValidChecksum() {
        var bytes: [UInt8] = []
        LogRecordCodec.encode(Entry(term: 1, index: 1), into: &bytes)
        bytes[24] = 9
        var crc = CRC32C.update(0, bytes[0..<4])
        crc = CRC32C.update(crc, bytes[8...])
        bytes.replaceSubrange(4..<8, with: bigEndianBytes(crc))
        #expect(throws: StorageFormatError.invalidField("entry kind 9")) {
            try LogRecordCodec.decode(bytes, at: 0, maxRecordBytes: 1024)
        }
    }

    @Test func recordRejectsALengthAboveTheRecordLimit() {
        var bytes: [UInt8] = []
        LogRecordCodec.encode(Entry(term: 1, index: 1, data: Array(repeating: 7, count: 100)), into: &bytes)
        #expect(throws: StorageFormatError.self) { try LogRecordCodec.decode(bytes, at: 0, maxRecordBytes: 64) }
    }

    // MARK: - Segment header and names

    @Test func segmentHeaderRoundTripsAndRejectsMalformedInput() throws {
        let header = SegmentHeaderCodec.encode(firstIndex: 123_456)
        #expect(header.count == SegmentHeaderCodec.size)
        #expect(try SegmentHeaderCodec.decode(header + [1, 2, 3]) == 123_456)
        expectRejectsTruncationsAndFlips(header) { try SegmentHeaderCodec.decode($0) }
        var badMagic = header
        badMagic[0] = UInt8(ascii: "X")
        #expect(throws: StorageFormatError.badMagic(0x584B_564C)) {
            try SegmentHeaderCodec.decode(resealedWithChecksum(badMagic))
        }
        var newer = header
        newer[5] = 2
        #expect(throws: StorageFormatError.unsupportedVersion(2)) {
            try SegmentHeaderCodec.decode(resealedWithChecksum(newer))
        }
    }

    @Test func segmentFileNamesAreTwentyDigitsAndParseStrictly() {
        #expect(SegmentHeaderCodec.fileName(firstIndex: 17) == "00000000000000000017.seg")
        #expect(SegmentHeaderCodec.firstIndex(fromFileName: "00000000000000000017.seg") == 17)
        #expect(SegmentHeaderCodec.firstIndex(fromFileName: "0000000000000000017.seg") == nil)
        #expect(SegmentHeaderCodec.firstIndex(fromFileName: "0000000000000000001x.seg") == nil)
        #expect(SegmentHeaderCodec.firstIndex(fromFileName: "00000000000000000017.snap") == nil)
        #expect(SegmentHeaderCodec.fileName(firstIndex: UInt64.max) == "18446744073709551615.seg")
    }

    // MARK: - Hard state

    @Test func hardStateRoundTripsAndRejectsMalformedInput() throws {
        let state = HardState(term: 9, vote: 0xDEAD_BEEF, commit: 77)
        let bytes = HardStateCodec.encode(state)
        #expect(bytes.count == HardStateCodec.size)
        #expect(try HardStateCodec.decode(bytes) == state)
        expectRejectsTruncationsAndFlips(bytes) { try HardStateCodec.decode($0) }
        #expect(throws: StorageFormatError.self) { try HardStateCodec.decode(bytes + [0]) }
        var badMagic = bytes
        badMagic[3] = 0
        #expect(throws: StorageFormatError.badMagic(0x454B_4800)) {
            try HardStateCodec.decode(resealedWithChecksum(badMagic))
        }
        var newer = bytes
        newer[4] = 1
        #expect(throws: StorageFormatError.unsupportedVersion(0x0101)) {
            try HardStateCodec.decode(resealedWithChecksum(newer))
        }
    }

    // MARK: - Snapshots

    @Test func snapshotRoundTripsAndRejectsMalformedInput() throws {
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(
                index: 90, term: 4, configuration: ConfigurationState(voters: [3, 1, 2], learners: [8])),
            data: Array(repeating: 0x5A, count: 33))
        let bytes = SnapshotCodec.encode(snapshot)
        #expect(try SnapshotCodec.decode(bytes, maxDataBytes: 1024) == snapshot)
        expectRejectsTruncationsAndFlips(bytes) { try SnapshotCodec.decode($0, maxDataBytes: 1024) }
        #expect(throws: StorageFormatError.self) { try SnapshotCodec.decode(bytes, maxDataBytes: 32) }
        var badMagic = bytes
        badMagic[0] = 0
        #expect(throws: StorageFormatError.badMagic(0x004B_534E)) {
            try SnapshotCodec.decode(resealedWithChecksum(badMagic), maxDataBytes: 1024)
        }
        var newer = bytes
        newer[5] = 9
        #expect(throws: StorageFormatError.unsupportedVersion(9)) {
            try SnapshotCodec.decode(resealedWithChecksum(newer), maxDataBytes: 1024)
        }
    }

    @Test func snapshotRejectsUnsortedOrOverlappingMembersEvenWithAValidChecksum() {
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 5, term: 1, configuration: ConfigurationState(voters: [1, 2])))
        var unsorted = SnapshotCodec.encode(snapshot)
        // Voter ids start at offset 32 (28 + voter count); swap the two ids.
        let first = Array(unsorted[32..<40])
        unsorted.replaceSubrange(32..<40, with: unsorted[40..<48])
        unsorted.replaceSubrange(40..<48, with: first)
        #expect(throws: StorageFormatError.self) {
            try SnapshotCodec.decode(resealedWithChecksum(unsorted), maxDataBytes: 1024)
        }
        var overlapping = ByteWriter()
        ConfigurationStateCodec.encode(ConfigurationState(voters: [1], learners: [2]), into: &overlapping)
        var bytes = overlapping.bytes
        bytes.replaceSubrange((bytes.count - 8)..<bytes.count, with: bigEndianBytes64(1))
        var reader = ByteReader(bytes)
        #expect(throws: StorageFormatError.self) { try ConfigurationStateCodec.decode(from: &reader, version: 1) }
    }

    @Test func onlyTheBootstrapSnapshotHasIndexAndTermZero() throws {
        let bootstrap = Snapshot(metadata: SnapshotMetadata(configuration: ConfigurationState(voters: [4])))
        #expect(try SnapshotCodec.decode(SnapshotCodec.encode(bootstrap), maxDataBytes: 16) == bootstrap)
        for (index, term, data) in [(UInt64(0), UInt64(1), [UInt8]()), (1, 0, []), (0, 0, [1])] {
            let bytes = SnapshotCodec.encode(Snapshot(metadata: SnapshotMetadata(index: index, term: term), data: data))
            #expect(throws: StorageFormatError.self, "index \(index) term \(term)") {
                try SnapshotCodec.decode(bytes, maxDataBytes: 16)
            }
        }
    }

    @Test func snapshotFileNamesCarryIndexAndTerm() {
        let name = SnapshotCodec.fileName(index: 12, term: 3)
        #expect(name == "00000000000000000012-00000000000000000003.snap")
        #expect(SnapshotCodec.indexAndTerm(fromFileName: name)! == (12, 3))
        #expect(SnapshotCodec.indexAndTerm(fromFileName: name + ".tmp") == nil)
        #expect(SnapshotCodec.indexAndTerm(fromFileName: "12-3.snap") == nil)
    }
}

// MARK: - Helpers

/// Checks that every strict prefix and every single flipped bit of a checksummed encoding is rejected.
func expectRejectsTruncationsAndFlips(
    _ bytes: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ decode: ([UInt8]) throws -> some Any
) {
    for length in 0..<bytes.count {
        #expect(throws: (any Error).self, "prefix \(length)", sourceLocation: sourceLocation) {
            _ = try decode(Array(bytes[..<length]))
        }
    }
    for position in bytes.indices {
        for bit in [0, 7] {
            var damaged = bytes
            damaged[position] ^= UInt8(1) << UInt8(bit)
            #expect(throws: (any Error).self, "byte \(position) bit \(bit)", sourceLocation: sourceLocation) {
                _ = try decode(damaged)
            }
        }
    }
}

/// Recomputes the trailing CRC-32C of an encoding whose checksum covers everything before it.
func resealedWithChecksum(_ bytes: [UInt8]) -> [UInt8] {
    var result = Array(bytes.dropLast(4))
    result += bigEndianBytes(CRC32C.checksum(result))
    return result
}

func bigEndianBytes(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> UInt32($0)) }
}

func bigEndianBytes64(_ value: UInt64) -> [UInt8] {
    stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) }
}

/// The CRC-32C of `bytes`, one bit at a time: the definition the table-driven code must agree with.
func bitwiseCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}
