/// A KEK used with AES Key Wrap to wrap and unwrap 32-byte DEKs, with errors that name where the KEK came from.
///
/// The file and environment providers share it; it turns key-wrap failures into the operator-facing
/// ``KEKError`` cases (`ErrKEKMismatch`).
struct WrappingKEK: Sendable {
    /// The wrapping key.
    let kek: KeyEncryptionKey
    /// Where the KEK came from, for error messages, e.g. `file /etc/elastickv/kek`.
    let source: String
    /// The kek id (DESIGN §3.4): the first 16 hex digits of HMAC-SHA-256(kek, "elastickv kek id").
    let id: String

    init(kek: KeyEncryptionKey, source: String) {
        self.kek = kek
        self.source = source
        id = String(PayloadDigest.hex(PayloadDigest.hmacSHA256(key: kek.secret, Array("elastickv kek id".utf8)))
            .prefix(16))
    }

    /// The size every wrapped DEK has.
    static let wrappedByteCount = DataEncryptionKey.byteCount + AESKeyWrap.overheadByteCount

    func wrap(_ key: DataEncryptionKey) throws(KEKError) -> [UInt8] {
        do throws(KeyWrapError) {
            return try AESKeyWrap.wrap(key.secret, using: kek)
        } catch {
            throw KEKError.wrapFailure(error)
        }
    }

    func unwrap(_ wrapped: [UInt8]) throws(KEKError) -> DataEncryptionKey {
        guard wrapped.count == Self.wrappedByteCount else {
            throw KEKError.malformedWrappedKey(source: source, byteCount: wrapped.count)
        }
        let secret: SecretBytes
        do throws(KeyWrapError) {
            secret = try AESKeyWrap.unwrap(wrapped, using: kek)
        } catch {
            if error == .integrityCheckFailed { throw KEKError.mismatch(source: source) }
            throw KEKError.wrapFailure(error)
        }
        return secret.withUnsafeBytes { bytes in
            do throws(KeystoreError) {
                return try DataEncryptionKey(bytes: bytes)
            } catch {
                preconditionFailure("a 40-byte wrapped key always unwraps to a 32-byte DEK")
            }
        }
    }
}
