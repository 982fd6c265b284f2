/// A failed AES Key Wrap (RFC 3394) operation.
public enum KeyWrapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The KEK is not 32 bytes; the associated value is the size given.
    case invalidKEKSize(Int)
    /// Key data to wrap must be a multiple of 8 bytes and at least 16; the associated value is its size.
    case invalidKeyDataSize(Int)
    /// Wrapped bytes must be a multiple of 8 bytes and at least 24; the associated value is their size.
    case invalidWrappedSize(Int)
    /// The integrity check of RFC 3394 failed: the bytes were wrapped under another KEK or were altered.
    case integrityCheckFailed
    /// libcrypto failed (usually out of memory); the associated value names the function.
    case libcryptoFailure(function: String)

    public var description: String {
        switch self {
        case .invalidKEKSize(let size):
            return "KEK must be exactly 32 bytes, got \(size)"
        case .invalidKeyDataSize(let size):
            return "key data to wrap must be a multiple of 8 bytes and at least 16, got \(size)"
        case .invalidWrappedSize(let size):
            return "ErrKEKMismatch: wrapped key of \(size) bytes cannot be unwrapped (a multiple of 8, at least 24 "
                + "expected); the wrapped bytes are corrupt"
        case .integrityCheckFailed:
            return "ErrKEKMismatch: wrapped key does not unwrap with this KEK; it was wrapped under another KEK or "
                + "altered"
        case .libcryptoFailure(let function):
            return "libcrypto call \(function) failed; the process may be out of memory"
        }
    }
}
