/// A refused change to the ``Keystore``.
public enum KeystoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A DEK must be exactly 32 bytes; the associated value is the size given.
    case wrongKeySize(Int)
    /// Key id 0 is reserved and never names a key.
    case zeroKeyID
    /// The id is already installed with different key bytes or another purpose.
    case conflictingKey(KeyID)
    /// No key with this id is installed.
    case unknownKeyID(KeyID)
    /// The key exists but serves another purpose.
    case purposeMismatch(KeyID, expected: KeyPurpose)

    public var description: String {
        switch self {
        case .wrongKeySize(let size): return "DEK must be 32 bytes, got \(size)"
        case .zeroKeyID: return "key id 0 is reserved"
        case .conflictingKey(let id): return "key id \(id) is already installed with different key bytes or purpose"
        case .unknownKeyID(let id): return "key id \(id) is not in the keystore"
        case .purposeMismatch(let id, let expected): return "key id \(id) is not a \(expected.rawValue) key"
        }
    }
}
