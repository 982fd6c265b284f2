import CLibCrypto

/// Scripts are named by the SHA1 of their source, in lower-case hex (EVALSHA, SCRIPT LOAD, redis.sha1hex);
/// ACL passwords are kept as the SHA-256 of each, in lower-case hex (`#<digest>`).
enum ScriptDigest {
    static func sha1Hex(_ bytes: [UInt8]) -> String { hexDigest(bytes, EVP_sha1(), size: 20) }

    static func sha256Hex(_ bytes: [UInt8]) -> String { hexDigest(bytes, EVP_sha256(), size: 32) }

    private static func hexDigest(_ bytes: [UInt8], _ algorithm: OpaquePointer?, size: Int) -> String {
        var digest = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, algorithm, nil)
        }
        precondition(status == 1 && length == size, "SHA1 and SHA-256 are always available in libcrypto")
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(2 * size)
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A SHA1 as clients send it, in the lower case scripts are stored under (EVALSHA accepts either case).
    static func normalized(_ sha: [UInt8]) -> [UInt8] {
        sha.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }
}
