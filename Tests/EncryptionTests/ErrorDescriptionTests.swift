import DurableIO
import Foundation
import Testing

@testable import Encryption

/// Error descriptions say what happened and what to do, carry the normative names, and never contain key
/// bytes or wrapped bytes in any encoding.
@Suite struct ErrorDescriptionTests {
    static let kekBytes: [UInt8] = (0..<32).map { UInt8(0x30 &+ $0) }
    static let dekBytes = CipherFixtures.keyBytes(seed: 0x41)
    static let path = "/var/lib/elastickv/kek"

    static var envelopeErrors: [EnvelopeError] {
        [
            .truncated(byteCount: 3), .unknownVersion(2), .reservedFlagBits(flags: 0x80, purpose: .storage),
            .zeroKeyID, .unknownKeyID(9), .purposeMismatch(keyID: 9, keyPurpose: .raft, expected: .storage),
            .integrityFailure(keyID: 9), .noActiveKey(.raft), .localEpochNotSet(9),
            .localEpochRegression(keyID: 9, current: 4, requested: 3),
            .nonceCounterExhausted(node16: 1, localEpoch: 2), .plaintextTooLarge(byteCount: 5, maximum: 4),
            .outputTooSmall(required: 5, available: 4), .libcryptoFailure(function: "EVP_CipherUpdate"),
        ]
    }

    static var keyWrapErrors: [KeyWrapError] {
        [
            .invalidKEKSize(31), .invalidKeyDataSize(8), .invalidWrappedSize(41), .integrityCheckFailed,
            .libcryptoFailure(function: "EVP_CipherInit_ex"),
        ]
    }

    static var kekErrors: [KEKError] {
        [
            .filePermissions(path: path, mode: 0o644), .fileWrongSize(path: path, byteCount: 44),
            .fileUnreadable(FileSystemError(.permissionDenied, operation: "open", path: path)),
            .environmentVariableMissing(name: "ELASTICKV_KEK_BASE64"),
            .environmentInvalidBase64(name: "ELASTICKV_KEK_BASE64"),
            .environmentWrongSize(name: "ELASTICKV_KEK_BASE64", byteCount: 16), .mismatch(source: "file \(path)"),
            .malformedWrappedKey(source: "file \(path)", byteCount: 32), .wrapFailure(.integrityCheckFailed),
        ]
    }

    /// Every form in which `bytes` could leak into a message.
    static func encodings(of bytes: [UInt8]) -> [String] {
        let hex = CipherFixtures.hex(bytes)
        return [
            hex, hex.uppercased(), Data(bytes).base64EncodedString(), String(decoding: bytes, as: UTF8.self),
            bytes.map(String.init).joined(separator: ", "), String(hex.prefix(16)),
        ]
    }

    static func expectNoSecrets(in description: String, secrets: [[UInt8]]) {
        for secret in secrets {
            for encoding in encodings(of: secret) where !encoding.isEmpty {
                #expect(!description.contains(encoding), "\(description)")
            }
        }
    }

    @Test func everyDescriptionIsFreeOfKeyMaterial() throws {
        let kek = try KeyEncryptionKey(bytes: Self.kekBytes)
        let wrapped = try AESKeyWrap.wrap(SecretBytes(copying: Self.dekBytes), using: kek)
        let descriptions =
            Self.envelopeErrors.map { String(describing: $0) } + Self.keyWrapErrors.map { String(describing: $0) }
            + Self.kekErrors.map { String(describing: $0) }
            + AESGCMErrorCases.all.map { String(describing: $0) }
            + [
                String(describing: kek), String(describing: try DataEncryptionKey(bytes: Self.dekBytes)),
                String(describing: try EnvelopeKey(DataEncryptionKey(bytes: Self.dekBytes), id: 3, purpose: .raft)),
            ]
        for description in descriptions {
            #expect(!description.isEmpty)
            Self.expectNoSecrets(in: description, secrets: [Self.kekBytes, Self.dekBytes, wrapped])
        }
    }

    @Test func thrownErrorsFromRealFailuresAreFreeOfKeyMaterial() throws {
        let kek = try KeyEncryptionKey(bytes: Self.kekBytes)
        let wrapped = try AESKeyWrap.wrap(SecretBytes(copying: Self.dekBytes), using: kek)
        var altered = wrapped
        altered[0] ^= 1
        var messages: [String] = []
        do { _ = try AESKeyWrap.unwrap(altered, using: kek) } catch { messages.append(String(describing: error)) }
        let key = try EnvelopeKey(DataEncryptionKey(bytes: Self.dekBytes), id: 3, purpose: .storage)
        let context = EnvelopeContext.storage(userKey: [1], commitTimestamp: 1)
        var sealed = try Envelope.seal(
            Array("secret value".utf8), using: key, nonce: Nonce(node16: 1, localEpoch: 1, counter: 1),
            authenticating: context
        ).combined
        sealed[20] ^= 1
        do {
            _ = try Envelope.open(
                SealedEnvelope(combined: sealed, purpose: .storage), using: key, authenticating: context)
        } catch { messages.append(String(describing: error)) }
        #expect(messages.count == 2)
        for message in messages {
            Self.expectNoSecrets(in: message, secrets: [Self.kekBytes, Self.dekBytes, wrapped, altered, sealed])
            #expect(!message.contains("secret value"))
        }
    }

    @Test func normativeNamesAndRemediesAppearWhereTheyApply() {
        let permissions = String(describing: KEKError.filePermissions(path: Self.path, mode: 0o640))
        #expect(permissions.contains("ErrKEKFilePermissions"))
        #expect(permissions.contains(Self.path))
        #expect(permissions.contains("chmod 600"))
        #expect(permissions.contains("0640"))
        #expect(String(describing: KEKError.mismatch(source: "file \(Self.path)")).contains("ErrKEKMismatch"))
        #expect(String(describing: KEKError.mismatch(source: "file \(Self.path)")).contains(Self.path))
        #expect(String(describing: KEKError.malformedWrappedKey(source: "x", byteCount: 3)).contains("ErrKEKMismatch"))
        #expect(String(describing: KeyWrapError.integrityCheckFailed).contains("ErrKEKMismatch"))
        #expect(String(describing: KEKError.environmentVariableMissing(name: "V")).contains("ErrKEKRequired"))
        #expect(String(describing: KEKError.fileWrongSize(path: Self.path, byteCount: 44)).contains("32"))
        #expect(String(describing: EnvelopeError.unknownVersion(2)).contains("0x02"))
        #expect(String(describing: EnvelopeError.reservedFlagBits(flags: 0x80, purpose: .raft)).contains("0x80"))
    }

    @Test func everyDescriptionIsDistinct() {
        let all =
            Self.envelopeErrors.map { String(describing: $0) } + Self.keyWrapErrors.map { String(describing: $0) }
            + Self.kekErrors.map { String(describing: $0) }
        #expect(Set(all).count == all.count)
    }
}

/// Every ``AESGCMError`` case, for the description checks.
enum AESGCMErrorCases {
    static let all: [AESGCMError] = [.authenticationFailure, .libcryptoFailure(function: "EVP_CIPHER_CTX_new")]
}
