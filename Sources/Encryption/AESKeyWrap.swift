import CLibCrypto

/// AES Key Wrap (RFC 3394, default initial value `A6A6A6A6A6A6A6A6`) with a 256-bit KEK, through OpenSSL.
///
/// Wrapping is deterministic and authenticated: unwrapping with another KEK or altered bytes fails the
/// integrity check instead of returning wrong key bytes. Wrap and unwrap are rare (start-up, bootstrap,
/// rotation), so each call makes and frees its own OpenSSL context; freeing clears the key schedule. Temporary
/// plaintext key bytes are zeroed before they are freed.
public enum AESKeyWrap {
    /// Bytes the wrapped form adds to the key data.
    public static let overheadByteCount = 8

    /// Wraps `keyData` (16 bytes or more, a multiple of 8) under `kek`.
    ///
    /// - Returns: `keyData.count + 8` bytes, safe to store.
    /// - Throws: ``KeyWrapError/invalidKeyDataSize(_:)`` or ``KeyWrapError/libcryptoFailure(function:)``.
    public static func wrap(_ keyData: SecretBytes, using kek: KeyEncryptionKey) throws(KeyWrapError) -> [UInt8] {
        let count = keyData.count
        guard count >= 16, count % 8 == 0 else { throw KeyWrapError.invalidKeyDataSize(count) }
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: count + 2 * overheadByteCount, alignment: 16)
        output.initializeMemory(as: UInt8.self, repeating: 0)
        defer { output.deallocate() }
        let written = try keyData.withUnsafeBytes { (input) throws(KeyWrapError) in
            try run(encrypting: true, kek: kek, input: input, output: output)
        }
        precondition(written == count + overheadByteCount, "RFC 3394 wrap adds exactly 8 bytes")
        return [UInt8](UnsafeRawBufferPointer(rebasing: output[0..<written]))
    }

    /// Unwraps bytes made by ``wrap(_:using:)`` under the same KEK.
    ///
    /// - Returns: the key data, `wrapped.count - 8` bytes.
    /// - Throws: ``KeyWrapError/invalidWrappedSize(_:)``, ``KeyWrapError/integrityCheckFailed`` (another KEK,
    ///   or altered bytes) or ``KeyWrapError/libcryptoFailure(function:)``.
    public static func unwrap(_ wrapped: [UInt8], using kek: KeyEncryptionKey) throws(KeyWrapError) -> SecretBytes {
        guard wrapped.count >= 24, wrapped.count % 8 == 0 else { throw KeyWrapError.invalidWrappedSize(wrapped.count) }
        let capacity = wrapped.count + overheadByteCount
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        output.initializeMemory(as: UInt8.self, repeating: 0)
        defer {
            SecretBytes.zero(output)
            output.deallocate()
        }
        let written = try wrapped.withBytes { (input) throws(KeyWrapError) in
            try run(encrypting: false, kek: kek, input: input, output: output)
        }
        precondition(written == wrapped.count - overheadByteCount, "RFC 3394 unwrap removes exactly 8 bytes")
        return SecretBytes(copying: UnsafeRawBufferPointer(rebasing: output[0..<written]))
    }

    /// Runs one wrap or unwrap; `output` must have room for `input.count + 16` bytes (OpenSSL's bound).
    private static func run(
        encrypting: Bool, kek: KeyEncryptionKey, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws(KeyWrapError) -> Int {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw KeyWrapError.libcryptoFailure(function: "EVP_CIPHER_CTX_new")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        EVP_CIPHER_CTX_set_flags(context, Int32(EVP_CIPHER_CTX_FLAG_WRAP_ALLOW))
        let initialised = kek.secret.withUnsafeBytes { keyBytes in
            EVP_CipherInit_ex(context, EVP_aes_256_wrap(), nil, keyBytes.bytePointer, nil, encrypting ? 1 : 0)
        }
        guard initialised == 1 else {
            ERR_clear_error()
            throw KeyWrapError.libcryptoFailure(function: "EVP_CipherInit_ex")
        }
        var written: Int32 = 0
        let status = EVP_CipherUpdate(context, output.bytePointer, &written, input.bytePointer, Int32(input.count))
        guard status > 0, written > 0 else {
            ERR_clear_error()
            if encrypting { throw KeyWrapError.libcryptoFailure(function: "EVP_CipherUpdate") }
            throw KeyWrapError.integrityCheckFailed
        }
        return Int(written)
    }
}
