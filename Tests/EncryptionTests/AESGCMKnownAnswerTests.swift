import Testing

@testable import Encryption

/// AES-256-GCM against published vectors: the GCM specification's test cases 13–16 (McGrew and Viega) and two
/// NIST CAVP `gcmEncryptExtIV256` cases, all with 96-bit IVs and 128-bit tags.
@Suite struct AESGCMKnownAnswerTests {
    struct Vector: Sendable, CustomStringConvertible {
        let name: String
        let key: String
        let nonce: String
        let plaintext: String
        let aad: String
        let ciphertext: String
        let tag: String
        var description: String { name }
    }

    static let specKey = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
    static let specPlaintext =
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    static let specCiphertext =
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"

    static let vectors: [Vector] = [
        Vector(
            name: "GCM spec test case 13", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12), plaintext: "", aad: "", ciphertext: "",
            tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(
            name: "GCM spec test case 14", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12), plaintext: String(repeating: "00", count: 16), aad: "",
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(
            name: "GCM spec test case 15", key: specKey, nonce: "cafebabefacedbaddecaf888",
            plaintext: specPlaintext, aad: "", ciphertext: specCiphertext,
            tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(
            name: "GCM spec test case 16 (with AAD)", key: specKey, nonce: "cafebabefacedbaddecaf888",
            plaintext: String(specPlaintext.dropLast(8)), aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ciphertext: String(specCiphertext.dropLast(8)), tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
        Vector(
            name: "CAVP ExtIV256 PTlen 0 AADlen 0 count 0",
            key: "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
            nonce: "516c33929df5a3284ff463d7", plaintext: "", aad: "", ciphertext: "",
            tag: "bdc1ac884d332457a1d2664f168c76f0"),
        Vector(
            name: "CAVP ExtIV256 PTlen 0 AADlen 128 count 0",
            key: "78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223",
            nonce: "d79cf22d504cc793c3fb6c8a", plaintext: "", aad: "b96baa8c1c75a671bfb2d08d06be5f36",
            ciphertext: "", tag: "3e5d486aa2e30b22e040b85723a06e76"),
    ]

    static func cipher(_ vector: Vector) -> AESGCMCipher {
        AESGCMCipher(key: try! DataEncryptionKey(bytes: CipherFixtures.bytes(hex: vector.key)))
    }

    @Test(arguments: vectors)
    func sealMatchesVector(_ vector: Vector) throws {
        let plaintext = CipherFixtures.bytes(hex: vector.plaintext)
        var ciphertext = [UInt8](repeating: 0xEE, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: 16)
        try plaintext.withUnsafeBytes { input in
            try CipherFixtures.bytes(hex: vector.nonce).withUnsafeBytes { nonce in
                try CipherFixtures.bytes(hex: vector.aad).withUnsafeBytes { aad in
                    try ciphertext.withUnsafeMutableBytes { output in
                        try tag.withUnsafeMutableBytes { tagOutput in
                            try Self.cipher(vector).seal(
                                input, nonce: nonce, authenticating: aad, ciphertext: output, tag: tagOutput)
                        }
                    }
                }
            }
        }
        #expect(CipherFixtures.hex(ciphertext) == vector.ciphertext)
        #expect(CipherFixtures.hex(tag) == vector.tag)
    }

    @Test(arguments: vectors)
    func openMatchesVector(_ vector: Vector) throws {
        let plaintext = try Self.open(vector, tag: CipherFixtures.bytes(hex: vector.tag))
        #expect(CipherFixtures.hex(plaintext) == vector.plaintext)
    }

    @Test(arguments: vectors)
    func openRejectsEveryAlteredTagBit(_ vector: Vector) throws {
        let tag = CipherFixtures.bytes(hex: vector.tag)
        for bit in 0..<(tag.count * 8) {
            var altered = tag
            altered[bit / 8] ^= 1 << (bit % 8)
            #expect(throws: AESGCMError.authenticationFailure) { _ = try Self.open(vector, tag: altered) }
        }
    }

    @Test func failedOpenLeavesNoPlaintextInOutput() throws {
        let vector = Self.vectors[3]
        let ciphertext = CipherFixtures.bytes(hex: vector.ciphertext)
        var output = [UInt8](repeating: 0xEE, count: ciphertext.count)
        var aad = CipherFixtures.bytes(hex: vector.aad)
        aad[0] ^= 1
        #expect(throws: AESGCMError.authenticationFailure) {
            try ciphertext.withUnsafeBytes { input in
                try CipherFixtures.bytes(hex: vector.tag).withUnsafeBytes { tag in
                    try CipherFixtures.bytes(hex: vector.nonce).withUnsafeBytes { nonce in
                        try aad.withUnsafeBytes { aadBytes in
                            try output.withUnsafeMutableBytes { plaintext in
                                try Self.cipher(vector).open(
                                    input, tag: tag, nonce: nonce, authenticating: aadBytes, into: plaintext)
                            }
                        }
                    }
                }
            }
        }
        #expect(output.allSatisfy { $0 == 0 })
    }

    @Test func oneCipherAlternatesSealAndOpenOnItsPooledContexts() throws {
        let vector = Self.vectors[3]
        let cipher = Self.cipher(vector)
        for _ in 0..<3 {
            try #expect(
                CipherFixtures.hex(Self.open(vector, tag: CipherFixtures.bytes(hex: vector.tag), cipher: cipher))
                    == vector.plaintext)
            try sealMatchesVector(vector)
        }
    }

    static func open(_ vector: Vector, tag: [UInt8], cipher: AESGCMCipher? = nil) throws -> [UInt8] {
        let ciphertext = CipherFixtures.bytes(hex: vector.ciphertext)
        var output = [UInt8](repeating: 0, count: ciphertext.count)
        try ciphertext.withUnsafeBytes { input in
            try tag.withUnsafeBytes { tagBytes in
                try CipherFixtures.bytes(hex: vector.nonce).withUnsafeBytes { nonce in
                    try CipherFixtures.bytes(hex: vector.aad).withUnsafeBytes { aad in
                        try output.withUnsafeMutableBytes { plaintext in
                            try (cipher ?? Self.cipher(vector)).open(
                                input, tag: tagBytes, nonce: nonce, authenticating: aad, into: plaintext)
                        }
                    }
                }
            }
        }
        return output
    }
}
