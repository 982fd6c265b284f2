import CLibCrypto

/// Scripts are named by the SHA1 of their source, in lower-case hex (EVALSHA, SCRIPT LOAD, redis.sha1hex).
enum ScriptDigest {
    static func sha1Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, EVP_sha1(), nil)
        }
        precondition(status == 1 && length == 20, "SHA1 is always available in libcrypto")
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(40)
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
