import Testing
import TestSupport

@testable import Encryption

/// Many threads sealing and opening through one keyring: every value round-trips, no nonce repeats, and the
/// cipher's context pool stays bounded.
@Suite struct EnvelopeConcurrencyTests {
    @Test func concurrentSealAndOpenRoundTripWithUniqueNonces() throws {
        let keyring = CipherFixtures.keyring()
        let threads = 8
        let valuesPerThread = 2_000
        let counters = LockedBox<[UInt64]>([])
        let failures = LockedBox<[String]>([])
        CipherFixtures.runConcurrently(threads: threads) { thread in
            var seen: [UInt64] = []
            seen.reserveCapacity(valuesPerThread)
            for index in 0..<valuesPerThread {
                let userKey = Array("t\(thread)-k\(index)".utf8)
                let context = EnvelopeContext.storage(userKey: userKey, commitTimestamp: UInt64(index))
                let value = [UInt8](repeating: UInt8(truncatingIfNeeded: thread), count: index % 300)
                do {
                    let envelope = try keyring.seal(value, authenticating: context)
                    seen.append(try SealedEnvelope(combined: envelope, purpose: .storage).nonce.counter)
                    let raft = try keyring.seal(value, authenticating: .raft)
                    guard try keyring.open(envelope, authenticating: context) == value,
                        try keyring.open(raft, authenticating: .raft) == value
                    else {
                        failures.withLock { $0.append("thread \(thread) value \(index) did not round-trip") }
                        return
                    }
                } catch {
                    failures.withLock { $0.append("thread \(thread) value \(index): \(error)") }
                    return
                }
            }
            counters.withLock { $0 += seen }
        }
        #expect(failures.value == [])
        let all = counters.value
        #expect(all.count == threads * valuesPerThread)
        #expect(Set(all).count == all.count)
        #expect(Set(all) == Set(0..<UInt64(threads * valuesPerThread)))
        #expect(keyring.sealCount(for: CipherFixtures.raftKeyID) == UInt64(threads * valuesPerThread))
    }

    @Test func contextPoolKeepsAtMostItsBound() throws {
        let cipher = AESGCMCipher(key: CipherFixtures.key(seed: 3), contextSlotCount: 2)
        let key = try EnvelopeKey(CipherFixtures.key(seed: 3), id: 9, purpose: .raft)
        let failures = LockedBox(0)
        CipherFixtures.runConcurrently(threads: 8) { thread in
            for index in 0..<500 {
                let nonce = Nonce(node16: UInt16(thread), localEpoch: 0, counter: UInt64(index))
                let plaintext = [UInt8](repeating: 1, count: 64)
                var ciphertext = [UInt8](repeating: 0, count: 64)
                var tag = [UInt8](repeating: 0, count: 16)
                let nonceBytes = nonce.bytes
                do {
                    try plaintext.withUnsafeBytes { input in
                        try nonceBytes.withUnsafeBytes { nonceBuffer in
                            try ciphertext.withUnsafeMutableBytes { output in
                                try tag.withUnsafeMutableBytes { tagBuffer in
                                    try cipher.seal(
                                        input, nonce: nonceBuffer,
                                        authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                                        ciphertext: output, tag: tagBuffer)
                                }
                            }
                        }
                    }
                    _ = try Envelope.open(
                        Envelope.seal(plaintext, using: key, nonce: nonce, authenticating: .raft), using: key,
                        authenticating: .raft)
                } catch {
                    failures.withLock { $0 += 1 }
                }
            }
        }
        #expect(failures.value == 0)
        #expect(cipher.contextCount >= 1)
        #expect(cipher.contextCount <= 2)
    }

    struct SealedRecord: Sendable {
        let envelope: [UInt8]
        let context: EnvelopeContext
        let plaintext: [UInt8]
    }

    @Test func sealingWhileKeysRotateNeverReusesANonceAndAlwaysOpens() throws {
        let keyring = CipherFixtures.keyring()
        let records = LockedBox<[SealedRecord]>([])
        let failures = LockedBox<[String]>([])
        CipherFixtures.runConcurrently(threads: 5) { thread in
            guard thread > 0 else {
                for rotation in 1...20 {
                    let id = KeyID(1_000 + rotation)
                    do {
                        try keyring.keystore.install(
                            CipherFixtures.key(seed: UInt8(rotation)), id: id, purpose: .storage)
                        try keyring.setLocalEpoch(0, for: id)
                        try keyring.keystore.activate(id: id, for: .storage)
                    } catch {
                        failures.withLock { $0.append("rotation \(rotation): \(error)") }
                    }
                }
                return
            }
            var mine: [SealedRecord] = []
            for index in 0..<1_000 {
                let context = EnvelopeContext.storage(userKey: [UInt8(thread)], commitTimestamp: UInt64(index))
                let plaintext = [UInt8(thread), UInt8(truncatingIfNeeded: index)]
                do {
                    let envelope = try keyring.seal(plaintext, authenticating: context)
                    mine.append(SealedRecord(envelope: envelope, context: context, plaintext: plaintext))
                } catch {
                    failures.withLock { $0.append("thread \(thread) seal \(index): \(error)") }
                }
            }
            records.withLock { $0 += mine }
        }
        #expect(failures.value == [])
        var seen = Set<[UInt8]>()
        for record in records.value {
            let sealed = try SealedEnvelope(combined: record.envelope, purpose: .storage)
            let keyAndNonce = withUnsafeBytes(of: sealed.keyID.bigEndian) { Array($0) } + sealed.nonce.bytes
            #expect(seen.insert(keyAndNonce).inserted, "key id and nonce must never repeat")
            #expect(try keyring.open(record.envelope, authenticating: record.context) == record.plaintext)
        }
        #expect(seen.count == 4 * 1_000)
    }
}
