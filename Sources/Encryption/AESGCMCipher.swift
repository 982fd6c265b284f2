import CLibCrypto

/// AES-256-GCM with a 96-bit nonce and a 128-bit tag over caller-owned buffers, for one key.
///
/// This is the primitive under the envelope: it knows nothing of headers or key ids. Expanding the key
/// schedule costs more than sealing a small value, so an instance keeps OpenSSL contexts that hold the schedule
/// (a lock-free ``CipherContextPool``) and only sets the nonce per call. Any number of threads may use one
/// instance at once; each call borrows its own context.
///
/// Buffers must not overlap. Sizes are the caller's contract (checked with `precondition`): nonce 12 bytes,
/// tag 16 bytes, output exactly as long as the input, input at most ``maximumMessageByteCount``.
public final class AESGCMCipher: Sendable {
    /// Bytes of a nonce (IV).
    public static let nonceByteCount = 12
    /// Bytes of an authentication tag.
    public static let tagByteCount = 16
    /// The largest message one call accepts: OpenSSL takes lengths as `Int32`.
    public static let maximumMessageByteCount = Int(Int32.max) - 64
    /// OpenSSL contexts kept per key; more concurrent callers than this make short-lived extra contexts.
    public static let defaultContextSlotCount = 16

    private let pool: CipherContextPool

    /// Prepares a cipher for `key`. Cheap: OpenSSL contexts are made on first use.
    ///
    /// - Parameters:
    ///   - key: the 256-bit key.
    ///   - contextSlotCount: how many contexts to keep for reuse (1 to 64).
    public init(key: DataEncryptionKey, contextSlotCount: Int = defaultContextSlotCount) {
        pool = CipherContextPool(key: key.secret, slotCount: contextSlotCount) { EVP_aes_256_gcm() }
    }

    /// The number of OpenSSL contexts the pool made and keeps.
    var contextCount: Int { pool.contextCount }

    /// Encrypts `plaintext` into `ciphertext` and writes the tag that authenticates it and `aad`.
    ///
    /// - Throws: ``AESGCMError/libcryptoFailure(function:)`` only when libcrypto itself fails; `ciphertext` and
    ///   `tag` are zeroed then.
    public func seal(
        _ plaintext: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer,
        ciphertext: UnsafeMutableRawBufferPointer,
        tag: UnsafeMutableRawBufferPointer
    ) throws(AESGCMError) {
        Self.checkSizes(input: plaintext.count, output: ciphertext.count, nonce: nonce.count, tag: tag.count)
        do throws(AESGCMError) {
            try pool.withContext { (context) throws(AESGCMError) in
                try Self.start(context, nonce: nonce, aad: aad, encrypting: true)
                try Self.update(context, input: plaintext, output: ciphertext)
                try Self.finish(context)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagByteCount), tag.baseAddress) == 1
                else { throw Self.failure("EVP_CIPHER_CTX_ctrl(GET_TAG)") }
            }
        } catch {
            SecretBytes.zero(ciphertext)
            SecretBytes.zero(tag)
            throw error
        }
    }

    /// Checks `tag` over `ciphertext` and `aad` and decrypts `ciphertext` into `plaintext`.
    ///
    /// - Throws: ``AESGCMError/authenticationFailure`` when the tag does not verify;
    ///   ``AESGCMError/libcryptoFailure(function:)`` when libcrypto fails. On any error `plaintext` is zeroed,
    ///   so unauthenticated bytes never reach the caller.
    public func open(
        _ ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        authenticating aad: UnsafeRawBufferPointer,
        into plaintext: UnsafeMutableRawBufferPointer
    ) throws(AESGCMError) {
        Self.checkSizes(input: ciphertext.count, output: plaintext.count, nonce: nonce.count, tag: tag.count)
        do throws(AESGCMError) {
            try pool.withContext { (context) throws(AESGCMError) in
                try Self.start(context, nonce: nonce, aad: aad, encrypting: false)
                try Self.update(context, input: ciphertext, output: plaintext)
                let tagPointer = UnsafeMutableRawPointer(mutating: tag.baseAddress)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagByteCount), tagPointer) == 1
                else { throw Self.failure("EVP_CIPHER_CTX_ctrl(SET_TAG)") }
                var scratch: UInt8 = 0
                var written: Int32 = 0
                let verified = EVP_CipherFinal_ex(context, &scratch, &written)
                guard verified == 1 else {
                    ERR_clear_error()
                    throw AESGCMError.authenticationFailure
                }
            }
        } catch {
            SecretBytes.zero(plaintext)
            throw error
        }
    }

    private static func checkSizes(input: Int, output: Int, nonce: Int, tag: Int) {
        precondition(nonce == nonceByteCount, "an AES-GCM nonce must be 12 bytes")
        precondition(tag == tagByteCount, "an AES-GCM tag must be 16 bytes")
        precondition(input == output, "AES-GCM output must be exactly as long as its input")
        precondition(input <= maximumMessageByteCount, "AES-GCM message exceeds the libcrypto length limit")
    }

    private static func start(
        _ context: OpaquePointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, encrypting: Bool
    ) throws(AESGCMError) {
        let noncePointer = nonce.bytePointer
        guard EVP_CipherInit_ex(context, nil, nil, nil, noncePointer, encrypting ? 1 : 0) == 1 else {
            throw failure("EVP_CipherInit_ex(nonce)")
        }
        guard aad.count > 0 else { return }
        var written: Int32 = 0
        let aadPointer = aad.bytePointer
        guard EVP_CipherUpdate(context, nil, &written, aadPointer, Int32(aad.count)) == 1 else {
            throw failure("EVP_CipherUpdate(aad)")
        }
    }

    private static func update(
        _ context: OpaquePointer, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws(AESGCMError) {
        guard input.count > 0 else { return }
        var written: Int32 = 0
        let status = EVP_CipherUpdate(
            context, output.bytePointer, &written,
            input.bytePointer, Int32(input.count))
        guard status == 1 else { throw failure("EVP_CipherUpdate") }
        precondition(Int(written) == input.count, "AES-GCM must turn every input byte into one output byte")
    }

    private static func finish(_ context: OpaquePointer) throws(AESGCMError) {
        var scratch: UInt8 = 0
        var written: Int32 = 0
        guard EVP_CipherFinal_ex(context, &scratch, &written) == 1 else { throw failure("EVP_CipherFinal_ex") }
        precondition(written == 0, "AES-GCM must not produce output at finalisation")
    }

    private static func failure(_ function: String) -> AESGCMError {
        ERR_clear_error()
        return AESGCMError.libcryptoFailure(function: function)
    }
}
