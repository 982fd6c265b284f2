/// Seals and opens value bodies with the storage envelope.
///
/// The store depends only on this protocol; the encryption layer provides the implementation (AES-256-GCM
/// under the active storage DEK, AAD binding `user_key` and `commit_ts`). Implementations map every
/// authentication failure to ``StorageError/integrityFailure``.
public protocol ValueSealer: Sendable {
    /// The size of the envelope ``seal(_:userKey:commitTS:into:)`` writes for a plaintext of this size.
    func sealedByteCount(plaintextByteCount: Int) -> Int

    /// Seals `plaintext` for the version `(userKey, commitTS)` into `output` (at least
    /// ``sealedByteCount(plaintextByteCount:)`` bytes) and returns the bytes written, so the store builds a
    /// record without an intermediate copy.
    func seal(_ plaintext: [UInt8], userKey: [UInt8], commitTS: UInt64, into output: UnsafeMutableRawBufferPointer)
        throws(StorageError) -> Int

    /// Opens an envelope written for `(userKey, commitTS)`.
    ///
    /// - Throws: ``StorageError/integrityFailure`` when the envelope was altered, moved or sealed with
    ///   another key.
    func open(_ envelope: ArraySlice<UInt8>, userKey: [UInt8], commitTS: UInt64) throws(StorageError) -> [UInt8]
}
