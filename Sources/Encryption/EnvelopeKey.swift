/// A DEK ready to seal and open envelopes: its id, its purpose and a reusable cipher for its bytes.
///
/// Like swift-crypto's `SymmetricKey`, it is the typed key the ``Envelope`` functions take. Make one per DEK
/// and keep it: the cipher inside keeps OpenSSL contexts with the expanded key schedule.
public struct EnvelopeKey: Sendable, CustomStringConvertible {
    /// The key id written into every envelope sealed with this key; never 0.
    public let id: KeyID
    /// What this key protects.
    public let purpose: KeyPurpose
    /// The AES-256-GCM primitive holding the key bytes.
    public let cipher: AESGCMCipher
    /// The key bytes' owner, so callers can tell whether a cached ``EnvelopeKey`` still matches a DEK.
    let secret: SecretBytes

    /// Prepares `key` for envelopes.
    ///
    /// - Throws: ``EnvelopeError/zeroKeyID`` when `id` is 0.
    public init(_ key: DataEncryptionKey, id: KeyID, purpose: KeyPurpose) throws(EnvelopeError) {
        guard id != 0 else { throw EnvelopeError.zeroKeyID }
        self.id = id
        self.purpose = purpose
        self.cipher = AESGCMCipher(key: key)
        self.secret = key.secret
    }

    public var description: String { "EnvelopeKey(id: \(id), purpose: \(purpose.rawValue), <redacted>)" }
}
