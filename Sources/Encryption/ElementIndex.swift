import CLibCrypto

/// Names the elements of collections (set and sorted-set members, hash fields) in row keys without their
/// bytes: the first 16 bytes of HMAC-SHA-256 under the cluster's index key (docs/formats.md §2a).
///
/// Key id 0 is the *unkeyed* index (HMAC under 32 zero bytes) of a cluster that has no index key yet, whose
/// values are cleartext anyway; a collection keeps the index it was created with, so its rows stay findable.
public struct ElementIndex: Sendable, CustomStringConvertible {
    /// The bytes of an element name.
    public static let nameByteCount = 16

    /// The index key's id; 0 for the unkeyed index.
    public let keyID: KeyID
    private let key: SecretBytes

    /// The index of a cluster without an index key.
    public static let unkeyed = ElementIndex(keyID: 0, key: SecretBytes(copying: [UInt8](repeating: 0, count: 32)))

    /// The index under `key`, the index key with id `keyID` (never 0).
    public init(keyID: KeyID, key: DataEncryptionKey) {
        precondition(keyID != 0, "key id 0 names the unkeyed index")
        self.init(keyID: keyID, key: key.secret)
    }

    private init(keyID: KeyID, key: SecretBytes) {
        self.keyID = keyID
        self.key = key
    }

    /// The name of `element`.
    public func name(_ element: [UInt8]) -> [UInt8] {
        let digest = PayloadDigest.hmacSHA256(key: key, element)
        return Array(digest.prefix(Self.nameByteCount))
    }

    public var description: String { "ElementIndex(key \(keyID))" }
}

extension Keystore {
    /// The element index under the installed index key `keyID` (0: the unkeyed index); `nil` when the key is
    /// not installed or is not an index key.
    public func elementIndex(keyID: KeyID) -> ElementIndex? {
        guard keyID != 0 else { return .unkeyed }
        guard let entry = entry(id: keyID), entry.purpose == .index else { return nil }
        return ElementIndex(keyID: keyID, key: entry.key)
    }
}
