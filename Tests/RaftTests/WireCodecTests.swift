import TestSupport
import Testing

@testable import Raft

/// Round trips and a known answer for the Raft message wire codec.
@Suite struct WireCodecTests {
    static let seed: UInt64 = 0x5EED_0001_C0DE_C0DE

    @Test func everyKindRoundTripsWithRandomFields() throws {
        print("WireCodecTests seed \(Self.seed)")
        var random = SplitMix64(seed: Self.seed)
        let kinds = (UInt8(0)...UInt8(255)).compactMap { MessageKind(wireCode: $0) }
        #expect(kinds.count == 13)
        for kind in kinds {
            for round in 0..<40 {
                let message = WireCodecFixtures.randomMessage(kind: kind, using: &random)
                let bytes = try MessageWireCodec.encode(message)
                #expect(try MessageWireCodec.decode(bytes) == message, "\(kind) round \(round)")
            }
        }
    }

    @Test func wireCodesAreDistinctAndInvertible() {
        var seen = Set<UInt8>()
        for code in UInt8(0)...UInt8(255) {
            guard let kind = MessageKind(wireCode: code) else { continue }
            #expect(kind.wireCode == code)
            #expect(seen.insert(code).inserted)
        }
        #expect(MessageKind(wireCode: 0) == nil && MessageKind(wireCode: 14) == nil)
    }

    @Test func heartbeatEncodesToTheDocumentedBytes() throws {
        let message = Message(
            kind: .heartbeat, from: 1, to: 2, term: 3, logTerm: 4, index: 5, commit: 6, reject: true, rejectHint: 7,
            rejectHintTerm: 8, context: [0xAB], isLeadershipTransfer: true)
        var expected: [UInt8] = [1, 7, 0b011]
        for field: UInt64 in 1...8 { expected += [0, 0, 0, 0, 0, 0, 0, UInt8(field)] }
        expected += [0, 0, 0, 1, 0xAB, 0, 0, 0, 0]
        let bytes = try MessageWireCodec.encode(message)
        #expect(bytes == expected)
        #expect(bytes.count == MessageWireCodec.fixedHeaderBytes + 1)
        #expect(try MessageWireCodec.decode(bytes) == message)
    }

    @Test func snapshotChunkEncodesToTheDocumentedBytes() throws {
        let metadata = SnapshotMetadata(
            index: 9, term: 2, configuration: ConfigurationState(voters: [3, 1], learners: [2]))
        let chunk = SnapshotChunk(metadata: metadata, offset: 4, totalBytes: 6, data: [0xEE, 0xFF])
        let message = Message(kind: .snapshotChunk, from: 1, to: 2, term: 2, snapshotChunk: chunk)
        let bytes = try MessageWireCodec.encode(message)
        let tail: [UInt8] = [
            0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2,  // snapshot index, term
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3,  // voters 1, 3
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,  // learner 2
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 6,  // offset, total
            0, 0, 0, 2, 0xEE, 0xFF,
        ]
        #expect(bytes[2] == 0b100)
        #expect(Array(bytes[MessageWireCodec.fixedHeaderBytes...]) == tail)
        #expect(try MessageWireCodec.decode(bytes) == message)
    }

    @Test func largeSnapshotChunkAndFullAppendRoundTrip() throws {
        var random = SplitMix64(seed: Self.seed ^ 1)
        let data = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let metadata = SnapshotMetadata(index: 1000, term: 5, configuration: ConfigurationState(voters: [1, 2, 3]))
        let chunk = SnapshotChunk(metadata: metadata, offset: 1 << 20, totalBytes: 3 << 20, data: data)
        let snapshot = Message(kind: .snapshotChunk, from: 1, to: 2, term: 5, snapshotChunk: chunk)
        #expect(try MessageWireCodec.decode(MessageWireCodec.encode(snapshot)) == snapshot)
        let entries = (1...256).map { Entry(term: 5, index: UInt64($0), data: Array(data[..<4096])) }
        let append = Message(kind: .append, from: 1, to: 3, term: 5, entries: entries, commit: 200)
        #expect(try MessageWireCodec.decode(MessageWireCodec.encode(append)) == append)
    }
}

/// Random and hand-built messages shared by the wire codec tests.
enum WireCodecFixtures {
    static func randomMessage(kind: MessageKind, using random: inout SplitMix64) -> Message {
        var message = Message(
            kind: kind, from: random.next(), to: random.next(), term: random.next(), logTerm: random.next(),
            index: random.next(), commit: random.next(), reject: random.next() & 1 == 1, rejectHint: random.next(),
            rejectHintTerm: random.next(), context: bytes(upTo: 40, using: &random),
            isLeadershipTransfer: random.next() & 1 == 1)
        let entryCount = Int(random.next() % 6)
        message.entries = (0..<entryCount).map { _ in
            Entry(
                term: random.next(), index: random.next(),
                kind: random.next() & 1 == 0 ? .normal : .configurationChange,
                data: bytes(upTo: 100, using: &random))
        }
        if kind == .snapshotChunk || random.next() % 4 == 0 {
            message.snapshotChunk = randomChunk(using: &random)
        }
        return message
    }

    static func randomChunk(using random: inout SplitMix64) -> SnapshotChunk {
        var members = Set<NodeID>()
        let memberCount = Int(random.next() % 7)
        while members.count < memberCount { members.insert(random.next() | 1) }
        let learners = Set(members.filter { $0 % 3 == 0 })
        let configuration = ConfigurationState(voters: members.subtracting(learners), learners: learners)
        let metadata = SnapshotMetadata(index: random.next(), term: random.next(), configuration: configuration)
        let data = bytes(upTo: 200, using: &random)
        let offset = Int(random.next() % 10_000)
        let totalBytes = offset + data.count + Int(random.next() % 3)
        return SnapshotChunk(metadata: metadata, offset: offset, totalBytes: totalBytes, data: data)
    }

    static func bytes(upTo maximum: Int, using random: inout SplitMix64) -> [UInt8] {
        (0..<Int(random.next() % UInt64(maximum + 1))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// A message using every variable-length part: context, two entries and a snapshot chunk.
    static let full: Message = {
        let metadata = SnapshotMetadata(
            index: 7, term: 3, configuration: ConfigurationState(voters: [1, 2], learners: [5]))
        let chunk = SnapshotChunk(metadata: metadata, offset: 0, totalBytes: 10, data: [1, 2, 3])
        return Message(
            kind: .snapshotChunk, from: 1, to: 2, term: 3,
            entries: [Entry(term: 3, index: 8, data: [9, 9]), Entry(term: 3, index: 9, kind: .configurationChange)],
            snapshotChunk: chunk, context: [4, 5, 6])
    }()
}
