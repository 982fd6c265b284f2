/// A 256-bit AES key that encrypts user values or Raft payloads.
///
/// The bytes live in ``SecretBytes`` and are zeroed when the last reference goes away. The description never
/// shows key material.
public struct DataEncryptionKey: Sendable, CustomStringConvertible {
    /// The only size the envelope supports: AES-256.
    public static let byteCount = 32

    /// The key bytes; read them only inside `withUnsafeBytes`.
    public let secret: SecretBytes

    /// Wraps existing key bytes.
    ///
    /// - Throws: ``KeystoreError/wrongKeySize(_:)`` unless `bytes` holds exactly 32 bytes.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws(KeystoreError) {
        guard bytes.count == Self.byteCount else { throw KeystoreError.wrongKeySize(bytes.count) }
        secret = SecretBytes(copying: bytes)
    }

    /// Draws a fresh key from the system CSPRNG.
    public static func generate() -> DataEncryptionKey {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in bytes.indices { bytes[index] = generator.next() }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        return try! DataEncryptionKey(bytes: bytes)  // 32 bytes by construction
    }

    /// Whether two keys hold the same bytes (constant time).
    public func hasSameBytes(as other: DataEncryptionKey) -> Bool {
        secret.constantTimeEquals(other.secret)
    }

    public var description: String { "DataEncryptionKey(<redacted>)" }
}
