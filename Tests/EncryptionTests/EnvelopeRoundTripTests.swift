import Testing

@testable import Encryption

/// Sealing and opening through ``Envelope`` and ``SealingKeyring``: exact layout, both purposes, flags,
/// buffer handling and the keyring's refusals.
@Suite struct EnvelopeRoundTripTests {
    static let storageKey = try! EnvelopeKey(
        CipherFixtures.key(seed: 1), id: CipherFixtures.storageKeyID, purpose: .storage)
    static let raftKey = try! EnvelopeKey(CipherFixtures.key(seed: 2), id: CipherFixtures.raftKeyID, purpose: .raft)
    static let context = EnvelopeContext.storage(userKey: Array("user:42".utf8), commitTimestamp: 0x0102_0304_0506_0708)

    @Test(arguments: [0, 1, 15, 16, 17, 64, 1024, 16 * 1024])
    func storageValueRoundTrips(size: Int) throws {
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let nonce = Nonce(node16: 1, localEpoch: 2, counter: UInt64(size))
        let sealed = try Envelope.seal(plaintext, using: Self.storageKey, nonce: nonce, authenticating: Self.context)
        #expect(sealed.combined.count == size + 34)
        #expect(sealed.keyID == CipherFixtures.storageKeyID)
        #expect(sealed.nonce == nonce)
        if size >= 16 { #expect(Array(sealed.ciphertext) != plaintext) }
        #expect(try Envelope.open(sealed, using: Self.storageKey, authenticating: Self.context) == plaintext)
        let parsed = try SealedEnvelope(combined: sealed.combined, purpose: .storage)
        #expect(try Envelope.open(parsed, using: Self.storageKey, authenticating: Self.context) == plaintext)
    }

    @Test func headerBytesFollowTheNormativeLayout() throws {
        let nonce = Nonce(node16: 0xA1B2, localEpoch: 0x0007, counter: 0x0000_0000_0000_0102)
        let sealed = try Envelope.seal(
            [1, 2, 3], using: Self.storageKey, nonce: nonce, authenticating: Self.context, isCompressed: true)
        let expected: [UInt8] =
            [0x01, 0x01, 0x12, 0x34, 0x56, 0x78, 0xA1, 0xB2, 0x00, 0x07] + [0, 0, 0, 0, 0, 0, 1, 2]
        #expect(Array(sealed.combined.prefix(18)) == expected)
        #expect(sealed.isCompressed)
        let raft = try Envelope.seal([9], using: Self.raftKey, nonce: nonce, authenticating: .raft)
        #expect(Array(raft.combined.prefix(6)) == [0x01, 0x00, 0x9A, 0xBC, 0xDE, 0xF0])
    }

    @Test func compressedFlagRoundTripsThroughTheKeyring() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal([5, 6, 7], authenticating: Self.context, isCompressed: true)
        let header = try SealedEnvelope(combined: envelope, purpose: .storage)
        #expect(header.isCompressed)
        #expect(try keyring.open(envelope, authenticating: Self.context) == [5, 6, 7])
        let plain = try keyring.seal([5, 6, 7], authenticating: Self.context)
        #expect(try !SealedEnvelope(combined: plain, purpose: .storage).isCompressed)
    }

    @Test func raftPayloadRoundTripsThroughTheKeyring() throws {
        let keyring = CipherFixtures.keyring()
        let payload: [UInt8] = [0x00] + Array("SET k v".utf8)
        let envelope = try keyring.seal(payload, authenticating: .raft)
        #expect(Array(envelope.prefix(6)) == [0x01, 0x00, 0x9A, 0xBC, 0xDE, 0xF0])
        #expect(try keyring.open(envelope, authenticating: .raft) == payload)
    }

    @Test func keyringNoncesCarryNodeEpochAndASequence() throws {
        let keyring = CipherFixtures.keyring()
        for counter in UInt64(0)..<5 {
            let envelope = try keyring.seal([1], authenticating: Self.context)
            let sealed = try SealedEnvelope(combined: envelope, purpose: .storage)
            #expect(sealed.nonce == Nonce(node16: CipherFixtures.node16, localEpoch: 7, counter: counter))
        }
        #expect(keyring.sealCount(for: CipherFixtures.storageKeyID) == 5)
        #expect(keyring.sealCount(for: CipherFixtures.raftKeyID) == 0)
    }

    @Test func bufferVariantsSealIntoAndOpenFromLargerBuffers() throws {
        let keyring = CipherFixtures.keyring()
        let plaintext = [UInt8](repeating: 0x61, count: 100)
        var record = [UInt8](repeating: 0xCC, count: 9 + 134 + 5)
        let written = try record.withUnsafeMutableBytes { output in
            try plaintext.withUnsafeBytes { input in
                try keyring.seal(
                    input, authenticating: Self.context, into: UnsafeMutableRawBufferPointer(rebasing: output[9...]))
            }
        }
        #expect(written == 134)
        #expect(record.prefix(9).allSatisfy { $0 == 0xCC })
        var output = [UInt8](repeating: 0, count: 200)
        let count = try record.withUnsafeBytes { stored in
            try output.withUnsafeMutableBytes { buffer in
                try keyring.open(
                    UnsafeRawBufferPointer(rebasing: stored[9..<(9 + written)]), authenticating: Self.context,
                    into: buffer)
            }
        }
        #expect(Array(output.prefix(count)) == plaintext)
    }

    @Test func tooSmallOutputBuffersAreRefused() throws {
        let keyring = CipherFixtures.keyring()
        var small = [UInt8](repeating: 0, count: 40)
        #expect(throws: EnvelopeError.outputTooSmall(required: 44, available: 40)) {
            try small.withUnsafeMutableBytes { output in
                try [UInt8](repeating: 1, count: 10).withUnsafeBytes { input in
                    _ = try keyring.seal(input, authenticating: .raft, into: output)
                }
            }
        }
        let envelope = try keyring.seal([UInt8](repeating: 1, count: 10), authenticating: .raft)
        var tiny = [UInt8](repeating: 0, count: 9)
        #expect(throws: EnvelopeError.outputTooSmall(required: 10, available: 9)) {
            try tiny.withUnsafeMutableBytes { output in
                try envelope.withUnsafeBytes { input in _ = try keyring.open(input, authenticating: .raft, into: output)
                }
            }
        }
    }

    @Test func keysOfAnotherPurposeAreRefused() throws {
        #expect(
            throws: EnvelopeError.purposeMismatch(
                keyID: CipherFixtures.raftKeyID, keyPurpose: .raft, expected: .storage)
        ) {
            _ = try Envelope.seal(
                [1], using: Self.raftKey, nonce: Nonce(node16: 1, localEpoch: 1, counter: 1),
                authenticating: Self.context)
        }
        let keyring = CipherFixtures.keyring()
        let raftEnvelope = try keyring.seal([1, 2], authenticating: .raft)
        #expect(
            throws: EnvelopeError.purposeMismatch(
                keyID: CipherFixtures.raftKeyID, keyPurpose: .raft, expected: .storage)
        ) { _ = try keyring.open(raftEnvelope, authenticating: Self.context) }
        let storageEnvelope = try keyring.seal([1, 2], authenticating: Self.context)
        #expect(
            throws: EnvelopeError.purposeMismatch(
                keyID: CipherFixtures.storageKeyID, keyPurpose: .storage, expected: .raft)
        ) { _ = try keyring.open(storageEnvelope, authenticating: .raft) }
    }

    @Test func keyringRefusesToSealWithoutActiveKeyOrEpoch() throws {
        let keystore = Keystore()
        let keyring = SealingKeyring(keystore: keystore, node16: 3)
        #expect(throws: EnvelopeError.noActiveKey(.storage)) { _ = try keyring.seal([1], authenticating: Self.context) }
        #expect(throws: EnvelopeError.unknownKeyID(10)) { try keyring.setLocalEpoch(1, for: 10) }
        try keystore.install(CipherFixtures.key(seed: 9), id: 10, purpose: .storage)
        try keystore.activate(id: 10, for: .storage)
        #expect(throws: EnvelopeError.localEpochNotSet(10)) { _ = try keyring.seal([1], authenticating: Self.context) }
        try keyring.setLocalEpoch(4, for: 10)
        let envelope = try keyring.seal([1], authenticating: Self.context)
        #expect(try keyring.open(envelope, authenticating: Self.context) == [1])
    }

    @Test func localEpochMovesOnlyForward() throws {
        let keyring = CipherFixtures.keyring()
        _ = try keyring.seal([1], authenticating: .raft)
        try keyring.setLocalEpoch(7, for: CipherFixtures.raftKeyID)
        let sameEpoch = try SealedEnvelope(combined: keyring.seal([1], authenticating: .raft), purpose: .raft)
        #expect(sameEpoch.nonce.counter == 1)
        #expect(
            throws: EnvelopeError.localEpochRegression(keyID: CipherFixtures.raftKeyID, current: 7, requested: 6)
        ) { try keyring.setLocalEpoch(6, for: CipherFixtures.raftKeyID) }
        try keyring.setLocalEpoch(8, for: CipherFixtures.raftKeyID)
        let nextEpoch = try SealedEnvelope(combined: keyring.seal([1], authenticating: .raft), purpose: .raft)
        #expect(nextEpoch.nonce == Nonce(node16: CipherFixtures.node16, localEpoch: 8, counter: 0))
        #expect(keyring.localEpoch(for: CipherFixtures.raftKeyID) == 8)
    }

    @Test func removedKeysNoLongerOpen() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal([1, 2, 3], authenticating: Self.context)
        keyring.keystore.remove(id: CipherFixtures.storageKeyID)
        #expect(throws: EnvelopeError.unknownKeyID(CipherFixtures.storageKeyID)) {
            _ = try keyring.open(envelope, authenticating: Self.context)
        }
        #expect(throws: EnvelopeError.noActiveKey(.storage)) { _ = try keyring.seal([1], authenticating: Self.context) }
    }

    @Test func rotationSealsUnderTheNewKeyAndStillOpensTheOld() throws {
        let keyring = CipherFixtures.keyring()
        let old = try keyring.seal([1], authenticating: Self.context)
        try keyring.keystore.install(CipherFixtures.key(seed: 50), id: 77, purpose: .storage)
        try keyring.keystore.activate(id: 77, for: .storage)
        #expect(throws: EnvelopeError.localEpochNotSet(77)) { _ = try keyring.seal([1], authenticating: Self.context) }
        try keyring.setLocalEpoch(0, for: 77)
        let new = try keyring.seal([2], authenticating: Self.context)
        #expect(try SealedEnvelope(combined: new, purpose: .storage).keyID == 77)
        #expect(try keyring.open(old, authenticating: Self.context) == [1])
        #expect(try keyring.open(new, authenticating: Self.context) == [2])
    }

    @Test func envelopeKeyRefusesIDZeroAndRedactsItsDescription() {
        #expect(throws: EnvelopeError.zeroKeyID) {
            _ = try EnvelopeKey(CipherFixtures.key(seed: 1), id: 0, purpose: .raft)
        }
        #expect(!Self.storageKey.description.contains(CipherFixtures.hex(CipherFixtures.keyBytes(seed: 1))))
    }

    /// Whole envelopes computed independently (Python `cryptography`, DESIGN §3.2 layout), so the layout and AAD
    /// are pinned even where Python is not installed.
    @Test func sealingMatchesFixedEnvelopeVectors() throws {
        let nonce = Nonce(node16: 0xBEEF, localEpoch: 7, counter: 42)
        let storage = try Envelope.seal(
            Array("value".utf8), using: Self.storageKey, nonce: nonce, authenticating: Self.context, isCompressed: true)
        #expect(
            CipherFixtures.hex(storage.combined)
                == "010112345678beef0007000000000000002a25f1b4aae139b74eec6bd28bc3d9d77ac8adcff40d")
        let raft = try Envelope.seal(
            Array("\u{0}payload".utf8), using: Self.raftKey, nonce: nonce, authenticating: .raft)
        #expect(
            CipherFixtures.hex(raft.combined)
                == "01009abcdef0beef0007000000000000002aedd5709432e1b38f4eb3db1e818d7dd88a2a786427920005")
    }

    @Test func additionalDataBytesFollowTheNormativeLayout() {
        let header: [UInt8] = [0x01, 0x01, 0x12, 0x34, 0x56, 0x78] + [UInt8](repeating: 0xEE, count: 12)
        func additionalData(_ context: EnvelopeContext) -> [UInt8] {
            var buffer = [UInt8](repeating: 0xAA, count: context.additionalDataByteCount)
            header.withUnsafeBytes { headerBytes in
                buffer.withUnsafeMutableBytes { context.writeAdditionalData(header: headerBytes, to: $0) }
            }
            return buffer
        }
        #expect(additionalData(.raft) == [0x52, 0x01, 0x12, 0x34, 0x56, 0x78])
        #expect(
            additionalData(.storage(userKey: [0x6B], commitTimestamp: 0x0102_0304_0506_0708))
                == [0x01, 0x01, 0x12, 0x34, 0x56, 0x78, 0x6B, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(additionalData(.storage(userKey: [], commitTimestamp: 0)).count == 14)
    }

    @Test func keyringFollowsAKeyReinstalledWithOtherBytes() throws {
        let keyring = CipherFixtures.keyring()
        let before = try keyring.seal([1, 2, 3], authenticating: Self.context)
        keyring.keystore.remove(id: CipherFixtures.storageKeyID)
        try keyring.keystore.install(CipherFixtures.key(seed: 200), id: CipherFixtures.storageKeyID, purpose: .storage)
        try keyring.keystore.activate(id: CipherFixtures.storageKeyID, for: .storage)
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(before, authenticating: Self.context)
        }
        let after = try keyring.seal([4, 5], authenticating: Self.context)
        let reference = try EnvelopeKey(
            CipherFixtures.key(seed: 200), id: CipherFixtures.storageKeyID, purpose: .storage)
        let sealed = try SealedEnvelope(combined: after, purpose: .storage)
        #expect(try Envelope.open(sealed, using: reference, authenticating: Self.context) == [4, 5])
        #expect(sealed.nonce.counter == 1)
    }

    @Test func aSecondKeyringOverOneKeystoreTraps() async {
        await #expect(processExitsWith: .failure) {
            let keystore = Keystore()
            _ = SealingKeyring(keystore: keystore, node16: 1)
            _ = SealingKeyring(keystore: keystore, node16: 1)
        }
    }
}
