import Testing

@testable import Raft

/// Malformed and oversized input is refused by the Raft message wire codec with a typed error.
@Suite struct WireCodecRejectionTests {
    /// Offsets inside the encoding of ``WireCodecFixtures/full`` (context 3 bytes, entries of 2 and 0 bytes,
    /// two voters and one learner, 3 chunk bytes).
    enum Offset {
        static let contextLength = 67
        static let entryCount = 74
        static let firstEntryKind = 94
        static let firstEntryLength = 95
        static let voterCount = 138
        static let chunkOffset = 170
        static let chunkLength = 186
        static let total = 193
    }

    func fullBytes() throws -> [UInt8] {
        let bytes = try MessageWireCodec.encode(WireCodecFixtures.full)
        #expect(bytes.count == Offset.total)
        return bytes
    }

    func patched(_ bytes: [UInt8], at offset: Int, with value: UInt32) -> [UInt8] {
        var copy = bytes
        for index in 0..<4 { copy[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
        return copy
    }

    func decodeError(_ bytes: [UInt8], limits: WireLimits = .defaults) -> WireCodecError? {
        do {
            _ = try MessageWireCodec.decode(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyTruncationIsRejected() throws {
        let bytes = try fullBytes()
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes[..<length]))
            guard case .truncated = error else {
                Issue.record("prefix of \(length) bytes gave \(String(describing: error))")
                continue
            }
        }
    }

    @Test func trailingBytesAreRejected() throws {
        #expect(decodeError(try fullBytes() + [0]) == .trailingBytes(count: 1))
    }

    @Test func unknownVersionKindFlagsAndEntryKindAreRejected() throws {
        let bytes = try fullBytes()
        for version: UInt8 in [0, 2, 255] {
            var copy = bytes
            copy[0] = version
            #expect(decodeError(copy) == .unsupportedVersion(version))
        }
        for kind: UInt8 in [0, 14, 255] {
            var copy = bytes
            copy[1] = kind
            #expect(decodeError(copy) == .unknownMessageKind(kind))
        }
        var flags = bytes
        flags[2] |= 0b1000
        #expect(decodeError(flags) == .reservedFlags(flags[2]))
        var entryKind = bytes
        entryKind[Offset.firstEntryKind] = 2
        #expect(decodeError(entryKind) == .unknownEntryKind(2))
    }

    @Test func oversizedCountsAreRejectedBeforeAllocating() throws {
        let bytes = try fullBytes()
        let limits = WireLimits.defaults
        #expect(
            decodeError(patched(bytes, at: Offset.contextLength, with: .max))
                == .limitExceeded(field: "context bytes", value: UInt64(UInt32.max), limit: limits.maxContextBytes))
        #expect(
            decodeError(patched(bytes, at: Offset.entryCount, with: .max))
                == .limitExceeded(field: "entry count", value: UInt64(UInt32.max), limit: limits.maxEntriesPerMessage))
        #expect(
            decodeError(patched(bytes, at: Offset.firstEntryLength, with: .max))
                == .limitExceeded(field: "entry bytes", value: UInt64(UInt32.max), limit: limits.maxEntryBytes))
        #expect(
            decodeError(patched(bytes, at: Offset.chunkLength, with: .max))
                == .limitExceeded(field: "snapshot chunk bytes", value: UInt64(UInt32.max), limit: limits.maxChunkBytes)
        )
        guard case .invalidField = decodeError(patched(bytes, at: Offset.voterCount, with: .max)) else {
            Issue.record("a huge voter count was not rejected as invalid")
            return
        }
    }

    @Test func countsWithinLimitsButBeyondTheInputAreTruncations() throws {
        let bytes = try fullBytes()
        let entryCount = decodeError(patched(bytes, at: Offset.entryCount, with: 4000))
        #expect(entryCount == .truncated(needed: 4000 * 21, available: bytes.count - Offset.entryCount - 4))
        guard case .truncated = decodeError(patched(bytes, at: Offset.firstEntryLength, with: 1 << 20)) else {
            Issue.record("an entry length beyond the input was not a truncation")
            return
        }
    }

    @Test func chunkOutsideItsSnapshotIsRejected() throws {
        let bytes = try fullBytes()
        var beyond = bytes
        beyond[Offset.chunkOffset + 7] = 8  // offset 8 + 3 bytes > total 10
        guard case .invalidField = decodeError(beyond) else {
            Issue.record("a chunk ending beyond the snapshot was accepted")
            return
        }
        var offsetPastTotal = bytes
        offsetPastTotal[Offset.chunkOffset + 7] = 11
        guard case .invalidField = decodeError(offsetPastTotal) else {
            Issue.record("a chunk starting beyond the snapshot was accepted")
            return
        }
    }

    @Test func inputLargerThanTheMessageLimitIsRejected() throws {
        let bytes = try fullBytes()
        let limits = WireLimits(maxMessageBytes: 100)
        #expect(decodeError(bytes, limits: limits) == .limitExceeded(field: "message bytes", value: 193, limit: 100))
    }

    @Test func encodingRefusesMessagesBeyondTheLimits() {
        let entries = (1...3).map { Entry(term: 1, index: UInt64($0), data: [1, 2, 3, 4]) }
        let message = Message(kind: .append, from: 1, to: 2, term: 1, entries: entries)
        #expect(throws: WireCodecError.limitExceeded(field: "entry count", value: 3, limit: 2)) {
            try MessageWireCodec.encode(message, limits: WireLimits(maxEntriesPerMessage: 2))
        }
        #expect(throws: WireCodecError.limitExceeded(field: "entry bytes", value: 4, limit: 3)) {
            try MessageWireCodec.encode(message, limits: WireLimits(maxEntryBytes: 3))
        }
        let size = MessageWireCodec.fixedHeaderBytes + 3 * 25
        #expect(throws: WireCodecError.limitExceeded(field: "message bytes", value: UInt64(size), limit: size - 1)) {
            try MessageWireCodec.encode(message, limits: WireLimits(maxMessageBytes: size - 1))
        }
        #expect(throws: Never.self) { try MessageWireCodec.encode(message, limits: WireLimits(maxMessageBytes: size)) }
    }

    @Test func errorsSayWhatToDo() {
        let error = WireCodecError.limitExceeded(field: "entry count", value: 9, limit: 8)
        #expect(error.description.contains("raise WireLimits"))
        #expect(WireCodecError.unsupportedVersion(2).description.contains("same build"))
    }
}
