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

    /// HMAC-SHA-256 of `bytes` under `key` (32 bytes).
    static func hmacSHA256(key: SecretBytes, _ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let produced = key.withUnsafeBytes { keyBytes in
            bytes.withUnsafeBytes { data in
                digest.withUnsafeMutableBytes { output in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                         output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        precondition(produced != nil && length == 32, "HMAC-SHA-256 of libcrypto failed")
        return digest
    }

    /// Lower-case hex of `bytes`.
    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
