import Encryption
import Testing

/// The 0x05/0x08 rewrite-chunk entry: its bytes, its bounds, and when the applier finds it current.
@Suite struct RewriteChunkCodecTests {
    typealias P = EncryptionEntry.RowPosition

    @Test func aChunkHasTheDocumentedBytes() throws {
        let chunk = EncryptionEntry.RewriteChunk(
            targetKeyID: 0x0102_0304, rowsPerSecond: 500, examinedRows: 2, start: P(key: [0xAA], ts: 7),
            end: P(key: [0xAB, 0x01], ts: 1))
        let bytes = try EncryptionEntry.rewriteChunk(chunk).encoded()
        #expect(bytes == [0x05, 0x08, 0x01, 0x01, 0x02, 0x03, 0x04, 0, 0, 0x01, 0xF4, 0, 0, 0, 2, 0x03,
                          0, 0, 0, 1, 0xAA, 0, 0, 0, 0, 0, 0, 0, 7,
                          0, 0, 0, 2, 0xAB, 0x01, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(try EncryptionEntry.decode(bytes) == .rewriteChunk(chunk))
        let whole = EncryptionEntry.RewriteChunk(targetKeyID: 9, rowsPerSecond: 1, examinedRows: 0, start: nil, end: nil)
        #expect(try EncryptionEntry.decode(try EncryptionEntry.rewriteChunk(whole).encoded()) == .rewriteChunk(whole))
        #expect(whole.isLast && !chunk.isLast)
    }

    static func body(target: [UInt8] = [0, 0, 0, 9], rate: [UInt8] = [0, 0, 0, 1], bounds: UInt8,
                     positions: [UInt8] = []) -> [UInt8] {
        [0x05, 0x08, 0x01] + target + rate + [0, 0, 0, 0, bounds] + positions
    }

    static func position(_ key: [UInt8], _ ts: UInt64) -> [UInt8] {
        var bytes = withUnsafeBytes(of: UInt32(key.count).bigEndian, Array.init) + key
        bytes += withUnsafeBytes(of: ts.bigEndian, Array.init)
        return bytes
    }

    @Test func malformedChunksAreRefused() {
        #expect(throws: EntryCodecError.zeroKeyID(field: "rewrite target key id")) {
            try EncryptionEntry.decode(Self.body(target: [0, 0, 0, 0], bounds: 0))
        }
        #expect(throws: EntryCodecError.countOutOfRange(field: "rows per second", count: 0, minimum: 1,
                                                        maximum: Int(UInt32.max))) {
            try EncryptionEntry.decode(Self.body(rate: [0, 0, 0, 0], bounds: 0))
        }
        #expect(throws: EntryCodecError.reservedBits(field: "rewrite bounds", 4)) {
            try EncryptionEntry.decode(Self.body(bounds: 4))
        }
        #expect(throws: EntryCodecError.truncated(field: "rewrite start key length")) {
            try EncryptionEntry.decode(Self.body(bounds: 1))
        }
        #expect(throws: EntryCodecError.truncated(field: "rewrite end key")) {
            try EncryptionEntry.decode(Self.body(bounds: 2, positions: [0, 0, 0, 5, 1]))
        }
        #expect(throws: EntryCodecError.countOutOfRange(field: "rewrite start key length", count: 0x7FFF_FFFF,
                                                        minimum: 0, maximum: EntryLimits.maxRowKeyBytes)) {
            try EncryptionEntry.decode(Self.body(bounds: 1, positions: [0x7F, 0xFF, 0xFF, 0xFF]))
        }
        #expect(throws: EntryCodecError.timestampOutOfRange(field: "rewrite end ts", 1 << 63)) {
            try EncryptionEntry.decode(Self.body(bounds: 2, positions: Self.position([1], 1 << 63)))
        }
        for (start, end) in [(Self.position([2], 5), Self.position([2], 5)), (Self.position([2], 5), Self.position([1], 9)),
                             (Self.position([2], 5), Self.position([2], 4))] {
            #expect(throws: EntryCodecError.emptyRewriteRange) {
                try EncryptionEntry.decode(Self.body(bounds: 3, positions: start + end))
            }
        }
        #expect(throws: EntryCodecError.trailingBytes(count: 1)) { try EncryptionEntry.decode(Self.body(bounds: 0) + [0]) }
    }

    @Test func rowPositionsOrderByKeyBytesThenTimestamp() {
        #expect(P(key: [1], ts: 9) < P(key: [1, 0], ts: 0))
        #expect(P(key: [1], ts: 1) < P(key: [1], ts: 2))
        #expect(P(key: [0xFF], ts: 0) > P(key: [0x7F, 0xFF], ts: 100))
        #expect(!(P(key: [], ts: 3) < P(key: [], ts: 3)))
    }

    @Test func aChunkIsCurrentOnlyUnderTheActiveStorageDEKWithTheEnvelopeOn() throws {
        let (_, _, applier) = try ApplierEntryTests.bootstrappedNode()
        let active = SidecarTestEntries.storageID
        func chunk(_ target: KeyID) -> [UInt8] {
            EncryptionEntry.rewriteChunk(.init(targetKeyID: target, rowsPerSecond: 10, examinedRows: 0, start: nil,
                                               end: nil)).payload
        }
        #expect(try applier.apply(payload: chunk(active), index: 20) == .superseded, "the storage envelope is off")
        #expect(try applier.apply(payload: EncryptionEntry.enableStorageEnvelope.payload, index: 21) == .applied)
        #expect(try applier.apply(payload: chunk(active), index: 22) == .applied)
        #expect(try applier.apply(payload: chunk(SidecarTestEntries.raftID), index: 23) == .superseded)
        #expect(try applier.apply(payload: chunk(0x7777), index: 24) == .superseded)
        #expect(applier.sidecar?.raftAppliedIndex == 21, "a chunk never writes the sidecar")
    }
}
