import CLibCrypto

/// SHA-256 of an entry payload, through the system libcrypto.
///
/// The applier keeps the digest of the bootstrap entry in the sidecar so that a second bootstrap can be
/// compared byte for byte with the first without keeping the first.
enum PayloadDigest {
    /// The SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Sidecar.bootstrapDigestByteCount)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(
            status == 1 && length == UInt32(Sidecar.bootstrapDigestByteCount),
            "libcrypto's SHA-256 cannot fail on an in-memory buffer")
        return digest
    }
}
