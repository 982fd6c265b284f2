/// A failed AES-256-GCM operation of ``AESGCMCipher``.
public enum AESGCMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The tag does not match: the ciphertext, the nonce, the additional data or the key differ from the ones
    /// used to seal. Nothing was decrypted.
    case authenticationFailure
    /// libcrypto refused an operation that cannot fail on valid input (usually out of memory). The associated
    /// value names the libcrypto function.
    case libcryptoFailure(function: String)

    public var description: String {
        switch self {
        case .authenticationFailure:
            return "AES-GCM authentication failed: ciphertext, nonce, additional data or key do not match"
        case .libcryptoFailure(let function):
            return "libcrypto call \(function) failed; the process may be out of memory"
        }
    }
}
