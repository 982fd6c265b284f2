import Testing

@testable import Encryption

/// AES Key Wrap against RFC 3394 §4.3, §4.5 and §4.6 (256-bit KEK wrapping 128, 192 and 256 bits of key data),
/// plus the negative cases an unwrap must catch.
@Suite struct KeyWrapVectorTests {
    struct Vector: Sendable, CustomStringConvertible {
        let section: String
        let keyData: String
        let wrapped: String
        var description: String { "RFC 3394 \(section)" }
    }

    static let kekHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    static let vectors: [Vector] = [
        Vector(
            section: "4.3", keyData: "00112233445566778899aabbccddeeff",
            wrapped: "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"),
        Vector(
            section: "4.5", keyData: "00112233445566778899aabbccddeeff0001020304050607",
            wrapped: "a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb8958cd5d17d6b254da1"),
        Vector(
            section: "4.6", keyData: "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f",
            wrapped: "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21"),
    ]

    static let kek = try! KeyEncryptionKey(bytes: CipherFixtures.bytes(hex: kekHex))

    @Test(arguments: vectors)
    func wrapMatchesVector(_ vector: Vector) throws {
        let keyData = SecretBytes(copying: CipherFixtures.bytes(hex: vector.keyData))
        #expect(try CipherFixtures.hex(AESKeyWrap.wrap(keyData, using: Self.kek)) == vector.wrapped)
    }

    @Test(arguments: vectors)
    func unwrapMatchesVector(_ vector: Vector) throws {
        let keyData = try AESKeyWrap.unwrap(CipherFixtures.bytes(hex: vector.wrapped), using: Self.kek)
        #expect(keyData.withUnsafeBytes { CipherFixtures.hex($0) } == vector.keyData)
    }

    @Test(arguments: vectors)
    func unwrapRejectsEveryAlteredByte(_ vector: Vector) {
        let wrapped = CipherFixtures.bytes(hex: vector.wrapped)
        for index in wrapped.indices {
            var altered = wrapped
            altered[index] ^= 0x40
            #expect(throws: KeyWrapError.integrityCheckFailed) { _ = try AESKeyWrap.unwrap(altered, using: Self.kek) }
        }
    }

    @Test func unwrapUnderAnotherKEKFails() throws {
        let other = try KeyEncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        let wrapped = CipherFixtures.bytes(hex: Self.vectors[2].wrapped)
        #expect(throws: KeyWrapError.integrityCheckFailed) { _ = try AESKeyWrap.unwrap(wrapped, using: other) }
    }

    @Test func sizesOutsideTheRFCAreRefused() {
        #expect(throws: KeyWrapError.invalidKeyDataSize(8)) {
            _ = try AESKeyWrap.wrap(SecretBytes(copying: [UInt8](repeating: 1, count: 8)), using: Self.kek)
        }
        #expect(throws: KeyWrapError.invalidKeyDataSize(20)) {
            _ = try AESKeyWrap.wrap(SecretBytes(copying: [UInt8](repeating: 1, count: 20)), using: Self.kek)
        }
        #expect(throws: KeyWrapError.invalidWrappedSize(16)) {
            _ = try AESKeyWrap.unwrap([UInt8](repeating: 1, count: 16), using: Self.kek)
        }
        #expect(throws: KeyWrapError.invalidWrappedSize(41)) {
            _ = try AESKeyWrap.unwrap([UInt8](repeating: 1, count: 41), using: Self.kek)
        }
        #expect(throws: KeyWrapError.invalidKEKSize(31)) {
            _ = try KeyEncryptionKey(bytes: [UInt8](repeating: 1, count: 31))
        }
    }
}
