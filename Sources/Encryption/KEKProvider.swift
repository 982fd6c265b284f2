/// Wraps and unwraps DEKs with a key-encryption key held outside the cluster.
///
/// The file and environment providers use AES Key Wrap (RFC 3394); other providers (KMS, PKCS#11, …) may
/// return whatever bytes their service produces. The sidecar stores those bytes as they are.
public protocol KEKProvider: Sendable {
    /// Wraps a DEK. The result is safe to store and to leak.
    func wrap(_ key: DataEncryptionKey) throws -> [UInt8]

    /// Unwraps bytes made by ``wrap(_:)`` with the same KEK.
    ///
    /// - Throws: an error whose description names `ErrKEKMismatch` when the bytes were wrapped by another
    ///   KEK or were altered.
    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey
}
