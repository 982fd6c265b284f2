/// Wraps and unwraps DEKs with a key-encryption key held outside the cluster.
///
/// The file and environment providers use AES Key Wrap (RFC 3394); other providers (KMS, PKCS#11, …) may
/// return whatever bytes their service produces. The sidecar stores those bytes as they are.
///
/// A single provider implements ``wrap(_:)`` and ``unwrap(_:)-([UInt8])``. ``KEKRing`` (several KEKs) also
/// implements the ``WrappedDEK`` forms, which every caller that stores or reads wrapped keys uses; for a single
/// provider they are its byte forms with no kek ids recorded.
public protocol KEKProvider: Sendable {
    /// Wraps a DEK. The result is safe to store and to leak.
    func wrap(_ key: DataEncryptionKey) throws -> [UInt8]

    /// Unwraps bytes made by ``wrap(_:)`` with the same KEK.
    ///
    /// - Throws: an error whose description names `ErrKEKMismatch` when the bytes were wrapped by another
    ///   KEK or were altered.
    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey

    /// Wraps a DEK for storage: under every configured KEK, with their ids, when there are several.
    func wrapForStorage(_ key: DataEncryptionKey) throws -> WrappedDEK

    /// Unwraps a stored key with the first configured KEK that can.
    func unwrap(_ wrapped: WrappedDEK) throws -> DataEncryptionKey

    /// The KEK's id (DESIGN §3.4) when the provider can name it from the key itself (`file:`, `env:`); nil
    /// for providers named by their URI.
    var kekID: String? { get }

    /// What members compare to tell whether they hold the same KEKs (``KEKCheck``); nil when it cannot be
    /// computed now.
    var checkValue: String? { get }

    /// The state of every provider behind this one, for status and metrics.
    func providerHealth() -> [KEKProviderHealth]

    /// Calls the providers behind this one that reach a service, so their health is current even while no
    /// key operation needs them; may block for their deadlines and retries. Local providers do nothing.
    func probe()
}

extension KEKProvider {
    public func wrapForStorage(_ key: DataEncryptionKey) throws -> WrappedDEK {
        WrappedDEK(try wrap(key))
    }

    public func unwrap(_ wrapped: WrappedDEK) throws -> DataEncryptionKey {
        try unwrap(wrapped.bytes)
    }

    public var kekID: String? { nil }

    public var checkValue: String? { KEKCheck.value(of: self) }

    public func providerHealth() -> [KEKProviderHealth] { [] }

    public func probe() {}
}
