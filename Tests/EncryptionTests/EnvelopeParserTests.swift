import Testing

@testable import Encryption

/// The envelope parser refuses malformed input with a typed error and never guesses (DESIGN §3.2).
@Suite struct EnvelopeParserTests {
    /// A well-formed storage envelope header followed by `payloadCount` zero bytes and a zero tag.
    static func envelope(flags: UInt8 = 0, keyID: KeyID = CipherFixtures.storageKeyID, payloadCount: Int = 4)
        -> [UInt8]
    {
        var bytes: [UInt8] = [0x01, flags]
        bytes += withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
        bytes += Nonce(node16: 0x0102, localEpoch: 0x0304, counter: 0x0506_0708_090A_0B0C).bytes
        bytes += [UInt8](repeating: 0, count: payloadCount + 16)
        return bytes
    }

    static func parse(_ bytes: [UInt8], purpose: KeyPurpose = .storage) throws(EnvelopeError) -> EnvelopeHeader {
        try bytes.withBytes { (buffer) throws(EnvelopeError) in try EnvelopeHeader(parsing: buffer, purpose: purpose) }
    }

    @Test func wellFormedHeaderDecodesEveryField() throws {
        let header = try Self.parse(Self.envelope(flags: 1))
        #expect(header.keyID == CipherFixtures.storageKeyID)
        #expect(header.isCompressed)
        #expect(header.nonce == Nonce(node16: 0x0102, localEpoch: 0x0304, counter: 0x0506_0708_090A_0B0C))
        let sealed = try SealedEnvelope(combined: Self.envelope(flags: 0), purpose: .storage)
        #expect(sealed.keyID == CipherFixtures.storageKeyID)
        #expect(!sealed.isCompressed)
        #expect(sealed.ciphertext.count == 4)
        #expect(sealed.tag.count == 16)
    }

    @Test func everyTruncationIsRefused() {
        let whole = Self.envelope(payloadCount: 0)
        #expect(whole.count == 34)
        for length in 0..<34 {
            let prefix = Array(whole.prefix(length))
            #expect(throws: EnvelopeError.truncated(byteCount: length)) { _ = try Self.parse(prefix) }
            #expect(throws: EnvelopeError.truncated(byteCount: length)) {
                _ = try SealedEnvelope(combined: prefix, purpose: .raft)
            }
        }
        #expect(throws: Never.self) { _ = try Self.parse(whole) }
    }

    @Test func everyUnknownVersionIsRefused() {
        for version in UInt8.min...UInt8.max where version != 1 {
            var bytes = Self.envelope()
            bytes[0] = version
            #expect(throws: EnvelopeError.unknownVersion(version)) { _ = try Self.parse(bytes) }
        }
    }

    @Test func reservedStorageFlagBitsAreRefused() throws {
        for flags in UInt8(2)...UInt8.max {
            var bytes = Self.envelope()
            bytes[1] = flags
            #expect(throws: EnvelopeError.reservedFlagBits(flags: flags, purpose: .storage)) {
                _ = try Self.parse(bytes)
            }
        }
        #expect(try !Self.parse(Self.envelope(flags: 0)).isCompressed)
        #expect(try Self.parse(Self.envelope(flags: 1)).isCompressed)
    }

    @Test func raftEnvelopesAllowNoFlagBits() {
        for flags in UInt8(1)...UInt8.max {
            var bytes = Self.envelope()
            bytes[1] = flags
            #expect(throws: EnvelopeError.reservedFlagBits(flags: flags, purpose: .raft)) {
                _ = try Self.parse(bytes, purpose: .raft)
            }
        }
    }

    @Test func keyIDZeroIsRefused() {
        #expect(throws: EnvelopeError.zeroKeyID) { _ = try Self.parse(Self.envelope(keyID: 0)) }
        #expect(throws: EnvelopeError.zeroKeyID) {
            _ = try SealedEnvelope(combined: Self.envelope(keyID: 0), purpose: .storage)
        }
    }

    @Test func checksRunInLayoutOrder() {
        var bytes = Self.envelope(flags: 0xFE, keyID: 0)
        bytes[0] = 2
        #expect(throws: EnvelopeError.unknownVersion(2)) { _ = try Self.parse(bytes) }
        bytes[0] = 1
        #expect(throws: EnvelopeError.reservedFlagBits(flags: 0xFE, purpose: .storage)) { _ = try Self.parse(bytes) }
        bytes[1] = 0
        #expect(throws: EnvelopeError.zeroKeyID) { _ = try Self.parse(bytes) }
    }
}
