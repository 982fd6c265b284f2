import Testing

@testable import Encryption

/// Every altered header, tag or ciphertext byte, and every envelope moved to another user key, version or key
/// id, is refused with a typed error: nothing opens that was not sealed exactly so.
@Suite struct EnvelopeTamperTests {
    static let userKey = Array("account:7".utf8)
    static let context = EnvelopeContext.storage(userKey: userKey, commitTimestamp: 1_000)
    static let plaintext = Array("balance=100".utf8)

    /// The error expected when bit `bit` of header byte `index` of a storage envelope flips.
    static func expectedStorageError(index: Int, bit: Int, original: [UInt8]) -> EnvelopeError {
        var altered = original
        altered[index] ^= 1 << bit
        switch index {
        case 0: return .unknownVersion(altered[0])
        case 1:
            return bit == 0
                ? .integrityFailure(keyID: CipherFixtures.storageKeyID)
                : .reservedFlagBits(flags: altered[1], purpose: .storage)
        case 2..<6:
            let id = altered[2..<6].reduce(KeyID(0)) { $0 << 8 | KeyID($1) }
            return id == 0 ? .zeroKeyID : .unknownKeyID(id)
        default: return .integrityFailure(keyID: CipherFixtures.storageKeyID)
        }
    }

    @Test func everyHeaderBitFlipOfAStorageEnvelopeIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        for index in 0..<18 {
            for bit in 0..<8 {
                var altered = envelope
                altered[index] ^= 1 << bit
                let expected = Self.expectedStorageError(index: index, bit: bit, original: envelope)
                #expect(throws: expected, "byte \(index) bit \(bit)") {
                    _ = try keyring.open(altered, authenticating: Self.context)
                }
            }
        }
    }

    @Test func everyHeaderBitFlipOfARaftEnvelopeIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: .raft)
        for index in 0..<18 {
            for bit in 0..<8 {
                var altered = envelope
                altered[index] ^= 1 << bit
                let expected: EnvelopeError
                switch index {
                case 0: expected = .unknownVersion(altered[0])
                case 1: expected = .reservedFlagBits(flags: altered[1], purpose: .raft)
                case 2..<6:
                    let id = altered[2..<6].reduce(KeyID(0)) { $0 << 8 | KeyID($1) }
                    expected = id == 0 ? .zeroKeyID : .unknownKeyID(id)
                default: expected = .integrityFailure(keyID: CipherFixtures.raftKeyID)
                }
                #expect(throws: expected, "byte \(index) bit \(bit)") {
                    _ = try keyring.open(altered, authenticating: .raft)
                }
            }
        }
    }

    @Test func everyTagBitFlipIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        for index in (envelope.count - 16)..<envelope.count {
            for bit in 0..<8 {
                var altered = envelope
                altered[index] ^= 1 << bit
                #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
                    _ = try keyring.open(altered, authenticating: Self.context)
                }
            }
        }
    }

    @Test func everyCiphertextByteChangeIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        for index in 18..<(envelope.count - 16) {
            var altered = envelope
            altered[index] ^= 0x01
            #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
                _ = try keyring.open(altered, authenticating: Self.context)
            }
        }
    }

    @Test func truncatedAndExtendedEnvelopesAreRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(Array(envelope.dropLast()), authenticating: Self.context)
        }
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(envelope + [0], authenticating: Self.context)
        }
    }

    @Test func valueMovedToAnotherUserKeyIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        for otherKey in [Array("account:8".utf8), Array("account:7 ".utf8), Array("account:".utf8), []] {
            #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
                _ = try keyring.open(envelope, authenticating: .storage(userKey: otherKey, commitTimestamp: 1_000))
            }
        }
    }

    @Test func valueMovedToAnotherCommitTimestampIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        let envelope = try keyring.seal(Self.plaintext, authenticating: Self.context)
        for otherTimestamp: UInt64 in [0, 999, 1_001, 1_000 << 32, UInt64.max] {
            #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
                _ = try keyring.open(
                    envelope, authenticating: .storage(userKey: Self.userKey, commitTimestamp: otherTimestamp))
            }
        }
    }

    @Test func userKeyAndTimestampBoundariesCannotBeShifted() throws {
        let keyring = CipherFixtures.keyring()
        let context = EnvelopeContext.storage(userKey: [0x61, 0x00], commitTimestamp: 0x01)
        let envelope = try keyring.seal(Self.plaintext, authenticating: context)
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(envelope, authenticating: .storage(userKey: [0x61], commitTimestamp: 0x01))
        }
    }

    @Test func swappedValuesAreRefused() throws {
        let keyring = CipherFixtures.keyring()
        let first = EnvelopeContext.storage(userKey: Array("a".utf8), commitTimestamp: 5)
        let second = EnvelopeContext.storage(userKey: Array("b".utf8), commitTimestamp: 5)
        let firstEnvelope = try keyring.seal(Array("one".utf8), authenticating: first)
        let secondEnvelope = try keyring.seal(Array("two".utf8), authenticating: second)
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(firstEnvelope, authenticating: second)
        }
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(secondEnvelope, authenticating: first)
        }
    }

    @Test func raftEnvelopeWithAnotherKeyIDIsRefused() throws {
        let keyring = CipherFixtures.keyring()
        try keyring.keystore.install(CipherFixtures.key(seed: 2), id: 0x0BAD_CAFE, purpose: .raft)
        let envelope = try keyring.seal(Self.plaintext, authenticating: .raft)
        var renamed = envelope
        renamed.replaceSubrange(2..<6, with: [0x0B, 0xAD, 0xCA, 0xFE])
        #expect(throws: EnvelopeError.integrityFailure(keyID: 0x0BAD_CAFE)) {
            _ = try keyring.open(renamed, authenticating: .raft)
        }
        renamed.replaceSubrange(2..<6, with: [0x00, 0x00, 0x00, 0x05])
        #expect(throws: EnvelopeError.unknownKeyID(5)) { _ = try keyring.open(renamed, authenticating: .raft) }
    }

    @Test func envelopeUnderOtherKeyBytesWithTheSameIDIsRefused() throws {
        let impostor = try EnvelopeKey(CipherFixtures.key(seed: 99), id: CipherFixtures.storageKeyID, purpose: .storage)
        let sealed = try Envelope.seal(
            Self.plaintext, using: impostor, nonce: Nonce(node16: 1, localEpoch: 1, counter: 1),
            authenticating: Self.context)
        let keyring = CipherFixtures.keyring()
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(sealed.combined, authenticating: Self.context)
        }
    }
}
