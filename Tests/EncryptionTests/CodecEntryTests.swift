import Encryption
import TestSupport
import Testing

@Suite("Entry codecs")
struct CodecEntryTests {
    static let kek = SidecarTestKEK(generation: 1)

    /// One valid entry of every kind.
    static let samples: [EncryptionEntry] = [
        .writerRegistration([WriterRegistration(dekID: 7, fullNodeID: 0x0102_0304_0506_0708, localEpoch: 2)]),
        .writerRegistration(SidecarTestEntries.registrations(for: [7, 9], epoch: 3)),
        SidecarTestEntries.bootstrap(kek: kek),
        SidecarTestEntries.rotate(kek: kek, id: 42, purpose: .raft, seed: 9),
        .rewrapDEKs([
            .init(keyID: 1, wrapped: WrappedDEK([1, 2, 3])),
            .init(keyID: 2, wrapped: WrappedDEK(Array(repeating: 0xAB, count: EntryLimits.maxWrappedDEKBytes))),
        ]),
        .retireDEK(0xDEAD_BEEF),
        .enableStorageEnvelope,
        .enableRaftEnvelope,
        SidecarTestEntries.indexKey(kek: kek, id: 0x0102_0304, seed: 5),
        .rewrapDEKs([
            .init(keyID: 3, wrapped: WrappedDEK(wraps: [
                KEKWrap(kekID: "0123456789abcdef", bytes: [1, 2]), KEKWrap(kekID: "aws-kms:alias/ekv", bytes: [3]),
            ])),
            .init(keyID: 4, wrapped: WrappedDEK([9, 9, 9])),
        ]),
        .rotateDEK(.init(
            createdUnixSeconds: 5, replacedKeyID: 1,
            key: .init(keyID: 2, purpose: .storage, wrapped: WrappedDEK(wraps: [KEKWrap(kekID: "k", bytes: [7])])),
            registrations: [WriterRegistration(dekID: 2, fullNodeID: 1, localEpoch: 0)])),
    ]

    /// The index of the body version byte of a sample's payload.
    static func versionOffset(_ payload: [UInt8]) -> Int { payload[0] == 0x05 ? 2 : 1 }

    static func expectError(
        _ payload: [UInt8], _ expected: EntryCodecError, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try EncryptionEntry.decode(payload) }
    }

    @Test("every sample survives an encode/decode round trip", arguments: samples)
    func roundTrip(entry: EncryptionEntry) throws {
        #expect(try EncryptionEntry.decode(entry.encoded()) == entry)
    }

    @Test("fixed bytes: registration, retire and the two enables")
    func knownBytes() throws {
        let registration = EncryptionEntry.writerRegistration(
            [WriterRegistration(dekID: 7, fullNodeID: 0x0102_0304_0506_0708, localEpoch: 0x0A0B)])
        #expect(try registration.encoded() == [0x03, 0x01, 0x00, 0x01, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B])
        #expect(try EncryptionEntry.retireDEK(0x0102_0304).encoded() == [0x05, 0x03, 0x01, 1, 2, 3, 4])
        #expect(try EncryptionEntry.enableStorageEnvelope.encoded() == [0x05, 0x04, 0x01])
        #expect(try EncryptionEntry.enableRaftEnvelope.encoded() == [0x05, 0x05, 0x01])
        let rewrap = EncryptionEntry.rewrapDEKs([.init(keyID: 9, wrapped: WrappedDEK([0xEE, 0xFF]))])
        #expect(try rewrap.encoded() == [0x05, 0x02, 0x01, 0x00, 0x01, 0, 0, 0, 9, 0x00, 0x02, 0xEE, 0xFF])
    }

    @Test("fixed bytes: bootstrap and rotation")
    func knownKeyBytes() throws {
        let registration = WriterRegistration(dekID: 1, fullNodeID: 5, localEpoch: 0)
        let bootstrap = EncryptionEntry.bootstrap(
            .init(
                createdUnixSeconds: 0x10, storageKey: .init(keyID: 1, purpose: .storage, wrapped: WrappedDEK([0xAA])),
                raftKey: .init(keyID: 2, purpose: .raft, wrapped: WrappedDEK([0xBB, 0xCC])),
                registrations: [registration]))
        let expectedBootstrap: [UInt8] = [
            0x04, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0x01, 0, 1, 0xAA,
            0, 0, 0, 2, 0x02, 0, 2, 0xBB, 0xCC, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0,
        ]
        #expect(try bootstrap.encoded() == expectedBootstrap)
        let rotate = EncryptionEntry.rotateDEK(
            .init(
                createdUnixSeconds: 0x20, replacedKeyID: 0x0A0B_0C0D,
                key: .init(keyID: 3, purpose: .raft, wrapped: WrappedDEK([0xDD])),
                registrations: [WriterRegistration(dekID: 3, fullNodeID: 5, localEpoch: 0)]))
        let expectedRotate: [UInt8] = [
            0x05, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 3, 0x02, 0, 1, 0xDD,
            0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0,
        ]
        #expect(try rotate.encoded() == expectedRotate)
    }

    @Test("a bootstrap may list the raft key first", arguments: [false, true])
    func bootstrapKeyOrder(raftFirst: Bool) throws {
        let storage: [UInt8] = [0, 0, 0, 1, 0x01, 0, 1, 0xAA]
        let raft: [UInt8] = [0, 0, 0, 2, 0x02, 0, 1, 0xBB]
        let tail: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0]
        let payload =
            [0x04, 0x01] + Array(repeating: 0, count: 8) + (raftFirst ? raft + storage : storage + raft) + tail
        guard case .bootstrap(let body) = try EncryptionEntry.decode(payload) else {
            Issue.record("expected a bootstrap")
            return
        }
        #expect(body.storageKey.keyID == 1 && body.raftKey.keyID == 2)
    }

    @Test("every truncation of every sample is reported as truncated", arguments: samples)
    func truncations(entry: EncryptionEntry) throws {
        let payload = try entry.encoded()
        for length in 0..<payload.count {
            #expect(throws: EntryCodecError.self) { try EncryptionEntry.decode(Array(payload[0..<length])) }
            do {
                _ = try EncryptionEntry.decode(Array(payload[0..<length]))
            } catch {
                guard case .truncated = error else {
                    Issue.record("prefix \(length) gave \(error)")
                    continue
                }
            }
        }
    }

    @Test("per-KEK wraps: version 2 bytes, unnamed wraps beside named ones, limits")
    func multiKEKBytes() throws {
        let entry = EncryptionEntry.rewrapDEKs([
            .init(keyID: 3, wrapped: WrappedDEK(wraps: [KEKWrap(kekID: "ab", bytes: [1, 2]), KEKWrap(kekID: "c", bytes: [3])])),
            .init(keyID: 4, wrapped: WrappedDEK([9])),
        ])
        let bytes = try entry.encoded()
        #expect(bytes == [0x05, 0x02, 0x02, 0x00, 0x02,
                          0x00, 0x00, 0x00, 0x03, 0x02, 0x00, 0x02, 0x61, 0x62, 0x00, 0x02, 0x01, 0x02,
                          0x00, 0x01, 0x63, 0x00, 0x01, 0x03,
                          0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0x09])
        // A single-KEK entry keeps version 1.
        #expect(try EncryptionEntry.rewrapDEKs([.init(keyID: 4, wrapped: WrappedDEK([9]))]).encoded()[2] == 0x01)
        Self.expectError(Array(bytes[0..<9]) + [0x02, 0x00, 0x01, 0x61, 0x00, 0x01, 0x01, 0x00, 0x01, 0x61, 0x00, 0x01, 0x02]
                             + Array(bytes[24...]), .duplicateKEKID)
        Self.expectError(Array(bytes[0..<9]) + [0x09], .countOutOfRange(field: "KEK wrap count", count: 9, minimum: 0,
                                                                       maximum: EntryLimits.maxKEKWraps))
        Self.expectError(Array(bytes[0..<9]) + [0x01, 0x00, 0x00], .kekIDLength(0))
        Self.expectError(Array(bytes[0..<9]) + [0x01, 0x00, 0x01, 0xFF, 0x00, 0x01, 0x01] + Array(bytes[24...]),
                         .kekIDNotUTF8)
    }

    @Test("trailing bytes are rejected", arguments: samples)
    func trailingBytes(entry: EncryptionEntry) throws {
        Self.expectError(try entry.encoded() + [0], .trailingBytes(count: 1))
        Self.expectError(try entry.encoded() + [1, 2, 3], .trailingBytes(count: 3))
    }

    @Test("an unknown body version is rejected", arguments: samples)
    func badVersion(entry: EncryptionEntry) throws {
        let carriesKeys: Bool
        switch entry {
        case .bootstrap, .rotateDEK, .rewrapDEKs, .createIndexKey: carriesKeys = true
        default: carriesKeys = false
        }
        for version: UInt8 in carriesKeys ? [0x00, 0x03, 0xFF] : [0x00, 0x02, 0x03, 0xFF] {
            var payload = try entry.encoded()
            payload[Self.versionOffset(payload)] = version
            Self.expectError(payload, .unsupportedVersion(version))
        }
    }

    @Test("unknown opcodes and sub-tags are rejected")
    func unknownTags() {
        for opcode: UInt8 in [0x00, 0x01, 0x02, 0x06, 0x52, 0xFF] {
            Self.expectError([opcode, 0x01], .unknownOpcode(opcode))
        }
        for tag: UInt8 in [0x00, 0x09, 0x80, 0xFF] { Self.expectError([0x05, tag, 0x01], .unknownSubTag(tag)) }
        Self.expectError([], .truncated(field: "opcode"))
        Self.expectError([0x05], .truncated(field: "sub-tag"))
    }

    @Test("unknown purposes are rejected in bootstraps and rotations")
    func unknownPurpose() throws {
        let rotate = try SidecarTestEntries.rotate(kek: Self.kek, id: 42, purpose: .raft, seed: 9).encoded()
        let bootstrap = try SidecarTestEntries.bootstrap(kek: Self.kek).encoded()
        for purpose: UInt8 in [0, 4, 0xFF] {
            var badRotate = rotate
            badRotate[3 + 8 + 4 + 4] = purpose
            Self.expectError(badRotate, .unknownPurpose(purpose))
            var badBootstrap = bootstrap
            badBootstrap[2 + 8 + 4] = purpose
            Self.expectError(badBootstrap, .unknownPurpose(purpose))
        }
    }

    @Test("the index key is introduced only by create-index-key: never rotated, never in a bootstrap")
    func indexKeyPurpose() throws {
        let rotate = try SidecarTestEntries.rotate(kek: Self.kek, id: 42, purpose: .raft, seed: 9).encoded()
        var rotateIndex = rotate
        rotateIndex[3 + 8 + 4 + 4] = KeyPurpose.index.wireValue
        Self.expectError(rotateIndex, .purposeNotAllowed(field: "rotated key", .index))
        var bootstrap = try SidecarTestEntries.bootstrap(kek: Self.kek).encoded()
        bootstrap[2 + 8 + 4] = KeyPurpose.index.wireValue
        Self.expectError(bootstrap, .bootstrapKeysInvalid)
        let index = try SidecarTestEntries.indexKey(kek: Self.kek, id: 9, seed: 5).encoded()
        #expect(Array(index.prefix(3)) == [0x05, 0x06, 0x01])
        for purpose in [KeyPurpose.storage, .raft] {
            var wrongPurpose = index
            wrongPurpose[3 + 8 + 4] = purpose.wireValue
            Self.expectError(wrongPurpose, .purposeNotAllowed(field: "index key", purpose))
        }
        #expect(throws: EntryCodecError.purposeNotAllowed(field: "index key", .storage)) {
            try EncryptionEntry.createIndexKey(.init(createdUnixSeconds: 1, key: .init(
                keyID: 9, purpose: .storage, wrapped: WrappedDEK([1])))).encoded()
        }
    }

    @Test("counts outside their limits are rejected")
    func counts() {
        let registrationLimit = EntryLimits.maxRegistrationsPerEntry
        Self.expectError(
            [0x03, 0x01, 0, 0],
            .countOutOfRange(field: "registration count", count: 0, minimum: 1, maximum: registrationLimit))
        let over = UInt16(registrationLimit + 1)
        Self.expectError(
            [0x03, 0x01, UInt8(over >> 8), UInt8(over & 0xFF)],
            .countOutOfRange(
                field: "registration count", count: Int(over), minimum: 1,
                maximum: registrationLimit))
        Self.expectError(
            [0x03, 0x01, 0xFF, 0xFF],
            .countOutOfRange(
                field: "registration count", count: 0xFFFF, minimum: 1,
                maximum: registrationLimit))
        let rewrapLimit = EntryLimits.maxRewrappedDEKsPerEntry
        Self.expectError(
            [0x05, 0x02, 0x01, 0, 0],
            .countOutOfRange(field: "rewrapped DEK count", count: 0, minimum: 1, maximum: rewrapLimit))
        let overRewrap = UInt16(rewrapLimit + 1)
        Self.expectError(
            [0x05, 0x02, 0x01, UInt8(overRewrap >> 8), UInt8(overRewrap & 0xFF)],
            .countOutOfRange(
                field: "rewrapped DEK count", count: Int(overRewrap), minimum: 1,
                maximum: rewrapLimit))
    }

    @Test("the largest registration batch decodes, one more does not encode")
    func registrationLimit() throws {
        let full = (0..<EntryLimits.maxRegistrationsPerEntry).map {
            WriterRegistration(dekID: 1, fullNodeID: UInt64($0 + 1), localEpoch: 0)
        }
        #expect(
            try EncryptionEntry.decode(EncryptionEntry.writerRegistration(full).encoded()) == .writerRegistration(full))
        let tooMany = full + [WriterRegistration(dekID: 1, fullNodeID: 99_999, localEpoch: 0)]
        #expect(throws: EntryCodecError.self) { try EncryptionEntry.writerRegistration(tooMany).encoded() }
        #expect(throws: EntryCodecError.self) { try EncryptionEntry.writerRegistration([]).encoded() }
    }

    @Test("wrapped DEK lengths outside 1...max are rejected")
    func wrappedLengths() {
        let limit = EntryLimits.maxWrappedDEKBytes
        Self.expectError([0x05, 0x02, 0x01, 0, 1, 0, 0, 0, 1, 0, 0], .wrappedDEKLength(0))
        let over = UInt16(limit + 1)
        Self.expectError(
            [0x05, 0x02, 0x01, 0, 1, 0, 0, 0, 1, UInt8(over >> 8), UInt8(over & 0xFF)]
                + Array(repeating: 0, count: Int(over)), .wrappedDEKLength(Int(over)))
        #expect(throws: EntryCodecError.wrappedDEKLength(limit + 1)) {
            try EncryptionEntry.rewrapDEKs([.init(keyID: 1, wrapped: WrappedDEK(Array(repeating: 1, count: limit + 1)))]
            )
            .encoded()
        }
        #expect(throws: EntryCodecError.wrappedDEKLength(0)) {
            try EncryptionEntry.rewrapDEKs([.init(keyID: 1, wrapped: WrappedDEK([]))]).encoded()
        }
    }

    @Test("zero key ids and node ids are rejected wherever they appear")
    func zeroIDs() {
        Self.expectError([0x05, 0x03, 0x01, 0, 0, 0, 0], .zeroKeyID(field: "retired key id"))
        Self.expectError([0x05, 0x02, 0x01, 0, 1, 0, 0, 0, 0, 0, 1, 0xAA], .zeroKeyID(field: "rewrapped key id"))
        Self.expectError(
            [0x03, 0x01, 0, 1, 0, 0, 0, 0] + Array(repeating: 1, count: 10),
            .zeroKeyID(field: "registration dek_id"))
        Self.expectError([0x03, 0x01, 0, 1, 0, 0, 0, 1] + Array(repeating: 0, count: 8) + [0, 0], .zeroNodeID)
        let rotateHeader: [UInt8] = [0x05, 0x01, 0x01] + Array(repeating: 0, count: 8)
        let rotateTail: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0]
        Self.expectError(
            rotateHeader + [0, 0, 0, 9] + [0, 0, 0, 0, 0x01, 0, 1, 0xAA] + rotateTail, .zeroKeyID(field: "key_id"))
        Self.expectError(
            rotateHeader + [0, 0, 0, 0] + [0, 0, 0, 1, 0x01, 0, 1, 0xAA] + rotateTail,
            .zeroKeyID(field: "replaced key id"))
        Self.expectError(
            rotateHeader + [0, 0, 0, 1] + [0, 0, 0, 1, 0x01, 0, 1, 0xAA] + rotateTail, .rotationReplacesItself(1))
    }

    @Test("bootstraps need one storage and one raft key with distinct ids")
    func bootstrapKeys() {
        let header: [UInt8] = [0x04, 0x01] + Array(repeating: 0, count: 8)
        let tail: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0]
        let twoStorage = header + [0, 0, 0, 1, 0x01, 0, 1, 0xAA] + [0, 0, 0, 2, 0x01, 0, 1, 0xBB] + tail
        Self.expectError(twoStorage, .bootstrapKeysInvalid)
        let sameID = header + [0, 0, 0, 1, 0x01, 0, 1, 0xAA] + [0, 0, 0, 1, 0x02, 0, 1, 0xBB] + tail
        Self.expectError(sameID, .bootstrapKeysInvalid)
        let swapped = EncryptionEntry.bootstrap(
            .init(
                createdUnixSeconds: 0, storageKey: .init(keyID: 1, purpose: .raft, wrapped: WrappedDEK([1])),
                raftKey: .init(keyID: 2, purpose: .storage, wrapped: WrappedDEK([2])),
                registrations: [WriterRegistration(dekID: 1, fullNodeID: 1, localEpoch: 0)]))
        #expect(throws: EntryCodecError.bootstrapKeysInvalid) { try swapped.encoded() }
    }

    @Test("a rewrap may name a key only once")
    func duplicateRewrap() {
        let one: [UInt8] = [0, 0, 0, 4, 0, 1, 0xAA]
        Self.expectError([0x05, 0x02, 0x01, 0, 2] + one + one, .duplicateKeyID(4))
    }

    @Test("creation times after 9999-12-31 are rejected")
    func createdLimit() {
        let tooLate = EntryLimits.maxCreatedUnixSeconds + 1
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: tooLate >> (56 - 8 * UInt64($0))) }
        Self.expectError([0x05, 0x01, 0x01] + bytes + [0, 0, 0, 1, 0x01, 0, 1, 0xAA], .createdOutOfRange(tooLate))
        Self.expectError([0x04, 0x01] + bytes, .createdOutOfRange(tooLate))
    }

    @Test("random bytes never crash a decoder, and whatever decodes re-encodes to an equal entry")
    func randomInputs() throws {
        var random = SplitMix64(seed: 0x5EED)
        let prefixes: [[UInt8]] = [
            [0x03, 0x01], [0x04, 0x01], [0x05, 0x01, 0x01], [0x05, 0x02, 0x01], [0x05, 0x03, 0x01], [],
        ]
        var decoded = 0
        for round in 0..<20_000 {
            let length = Int(random.next() % 48)
            var payload = prefixes[round % prefixes.count]
            for _ in 0..<length {
                payload.append(UInt8(truncatingIfNeeded: random.next() % 4 == 0 ? 0 : random.next()))
            }
            guard let entry = try? EncryptionEntry.decode(payload) else { continue }
            decoded += 1
            #expect(try EncryptionEntry.decode(entry.encoded()) == entry)
        }
        #expect(decoded > 0)
    }

    @Test("entries and codec errors never show wrapped bytes")
    func redaction() throws {
        let entry = SidecarTestEntries.bootstrap(kek: Self.kek)
        guard case .bootstrap(let body) = entry else { return }
        let wrapped = body.storageKey.wrapped.bytes
        for text in [String(describing: entry), String(reflecting: entry), "\(body.storageKey)"] {
            #expect(!text.contains(wrapped.map { String($0) }.joined(separator: ", ")))
            #expect(!text.contains(sidecarHex(wrapped)))
        }
    }
}

/// Lowercase hex of bytes, for redaction checks.
func sidecarHex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
