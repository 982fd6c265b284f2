import Encryption
import Storage

/// Seals MVCC value bodies with the storage envelope under the node's active storage DEK.
///
/// The envelope's additional data binds the user key and the version's commit timestamp, so a body copied
/// to another key or version fails to open. With compression on, a body is compressed before sealing when
/// that pays (``ValueCompression``) and the envelope's flag bit 0 says so; opening decompresses whatever the
/// flag says, whatever this node's own setting, so values written under either setting read the same.
/// Authentication failures become ``StorageError/integrityFailure``; a key the node does not hold becomes
/// ``StorageError/keyUnavailable(keyID:)``.
public struct EnvelopeValueSealer: ValueSealer {
    public let keyring: SealingKeyring
    /// Where failed opens are counted, if anywhere.
    public let failures: DecryptFailures?
    /// Whether new bodies are compressed before sealing.
    public let compression: ValueCompression
    /// The largest body a compressed envelope may decode to (the store's value bound).
    public let maximumValueByteCount: Int

    public init(
        keyring: SealingKeyring, failures: DecryptFailures? = nil, compression: ValueCompression = .zstd,
        maximumValueByteCount: Int = MVCCStore.Limits().maxValueBytes
    ) {
        self.keyring = keyring
        self.failures = failures
        self.compression = compression
        self.maximumValueByteCount = maximumValueByteCount
    }

    public func sealedByteCount(plaintextByteCount: Int) -> Int {
        Envelope.sealedByteCount(plaintextByteCount: plaintextByteCount)
    }

    public func seal(_ plaintext: [UInt8], userKey: [UInt8], commitTS: UInt64,
                     into output: UnsafeMutableRawBufferPointer) throws(StorageError) -> Int {
        let context = EnvelopeContext.storage(userKey: userKey, commitTimestamp: commitTS)
        var result: Result<Int, EnvelopeError> = .success(0)
        plaintext.withUnsafeBytes { input in
            do throws(EnvelopeError) {
                if let frame = compression.compress(input) {
                    result = .success(try frame.withBytes { (compressed) throws(EnvelopeError) in
                        try keyring.seal(compressed, authenticating: context, isCompressed: true, into: output)
                    })
                } else {
                    result = .success(try keyring.seal(input, authenticating: context, into: output))
                }
            } catch {
                result = .failure(error)
            }
        }
        switch result {
        case .success(let count): return count
        case .failure(let error): throw StorageError.sealingFailed(reason: error.description)
        }
    }

    public func open(_ envelope: ArraySlice<UInt8>, userKey: [UInt8], commitTS: UInt64) throws(StorageError)
        -> [UInt8]
    {
        let context = EnvelopeContext.storage(userKey: userKey, commitTimestamp: commitTS)
        let plaintextCount = max(envelope.count - Envelope.overheadByteCount, 0)
        var failure: EnvelopeError?
        let plaintext = [UInt8](unsafeUninitializedCapacity: plaintextCount) { buffer, initialized in
            envelope.withUnsafeBytes { input in
                do throws(EnvelopeError) {
                    initialized = try keyring.open(input, authenticating: context,
                                                   into: UnsafeMutableRawBufferPointer(buffer))
                } catch {
                    failure = error
                    initialized = 0
                }
            }
        }
        if let failure {
            failures?.record(failure)
            switch failure {
            case .integrityFailure: throw StorageError.integrityFailure
            case .unknownKeyID(let keyID): throw StorageError.keyUnavailable(keyID: keyID)
            default: throw StorageError.corruptRecord(reason: failure.description)
            }
        }
        // The flag byte is authenticated (it is part of the additional data), so it is trusted once open.
        guard envelope[envelope.startIndex + 1] & EnvelopeHeader.compressedFlag != 0 else { return plaintext }
        return try plaintext.withBytes { (frame) throws(StorageError) in
            try ValueCompression.decompress(frame, maximumByteCount: maximumValueByteCount)
        }
    }
}
