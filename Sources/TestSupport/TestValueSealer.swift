import DurableIO
import Storage

/// A reversible, authenticated test double for the storage sealer: XOR with a keystream derived from the
/// user key and commit_ts, plus a CRC-32C tag over (user key, ts, ciphertext). Detects moved or altered
/// bodies like the real envelope does, without depending on the cipher.
public struct TestValueSealer: ValueSealer {
    public var secret: UInt64 = 0x5EC2_E7

    public init(secret: UInt64 = 0x5EC2_E7) {
        self.secret = secret
    }

    public func seal(_ plaintext: [UInt8], userKey: [UInt8], commitTS: UInt64) throws(StorageError) -> [UInt8] {
        var body = transform(plaintext, userKey: userKey, commitTS: commitTS)
        body.append(contentsOf: tag(body, userKey: userKey, commitTS: commitTS))
        return body
    }

    public func open(_ envelope: ArraySlice<UInt8>, userKey: [UInt8], commitTS: UInt64) throws(StorageError) -> [UInt8] {
        guard envelope.count >= 4 else { throw StorageError.integrityFailure }
        let body = Array(envelope.dropLast(4))
        guard Array(envelope.suffix(4)) == tag(body, userKey: userKey, commitTS: commitTS) else {
            throw StorageError.integrityFailure
        }
        return transform(body, userKey: userKey, commitTS: commitTS)
    }

    private func transform(_ bytes: [UInt8], userKey: [UInt8], commitTS: UInt64) -> [UInt8] {
        var state = secret ^ UInt64(CRC32C.checksum(userKey)) ^ commitTS &* 0x9E37_79B9
        return bytes.map { byte in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return byte ^ UInt8(truncatingIfNeeded: state >> 33) ^ 0xA5
        }
    }

    private func tag(_ body: [UInt8], userKey: [UInt8], commitTS: UInt64) -> [UInt8] {
        var crc = CRC32C.checksum(userKey)
        crc = CRC32C.update(crc, (0..<8).map { UInt8(truncatingIfNeeded: (commitTS ^ secret) >> (8 * $0)) }[...])
        crc = CRC32C.update(crc, body[...])
        return (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
    }
}
