/// A 256-bit key-encryption key (KEK): the AES Key Wrap key that protects DEKs at rest.
///
/// The KEK is held outside the cluster (a file or the environment) and never written to a data directory. Its
/// bytes live in ``SecretBytes``, zeroed when the last reference goes away; the description never shows them.
public struct KeyEncryptionKey: Sendable, CustomStringConvertible {
    /// The only KEK size the file and environment providers accept.
    public static let byteCount = 32

    /// The key bytes; read them only inside `withUnsafeBytes`.
    public let secret: SecretBytes

    /// Copies existing key bytes; the caller zeroes its own copy.
    ///
    /// - Throws: ``KeyWrapError/invalidKEKSize(_:)`` unless `bytes` holds exactly 32 bytes.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws(KeyWrapError) {
        guard bytes.count == Self.byteCount else { throw KeyWrapError.invalidKEKSize(bytes.count) }
        secret = SecretBytes(copying: bytes)
    }

    /// Takes ownership of secret bytes.
    ///
    /// - Throws: ``KeyWrapError/invalidKEKSize(_:)`` unless `secret` holds exactly 32 bytes.
    public init(secret: SecretBytes) throws(KeyWrapError) {
        guard secret.count == Self.byteCount else { throw KeyWrapError.invalidKEKSize(secret.count) }
        self.secret = secret
    }

    public var description: String { "KeyEncryptionKey(<redacted>)" }
}
