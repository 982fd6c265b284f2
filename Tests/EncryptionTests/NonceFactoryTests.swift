import Testing
import TestSupport

@testable import Encryption

/// Nonces are `node16 ‖ local_epoch ‖ counter`, the counter never repeats under concurrency and never wraps.
@Suite struct NonceFactoryTests {
    @Test func noncesCountUpFromZeroWithAFixedPrefix() throws {
        let factory = NonceFactory(node16: 0x1234, localEpoch: 0x0056)
        for expected in UInt64(0)..<10 {
            let nonce = try factory.next()
            #expect(nonce == Nonce(node16: 0x1234, localEpoch: 0x0056, counter: expected))
        }
        #expect(factory.issuedCount == 10)
    }

    @Test func encodingIsBigEndianAndRoundTrips() {
        let nonce = Nonce(node16: 0x0102, localEpoch: 0x0304, counter: 0x0506_0708_090A_0B0C)
        #expect(nonce.bytes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        #expect(nonce.bytes.withUnsafeBytes { Nonce(bytes: $0) } == nonce)
    }

    @Test func exhaustedCounterRefusesAndNeverWraps() throws {
        let factory = NonceFactory(node16: 1, localEpoch: 2, firstCounter: UInt64.max - 2)
        #expect(try factory.next().counter == UInt64.max - 2)
        #expect(try factory.next().counter == UInt64.max - 1)
        for _ in 0..<3 {
            #expect(throws: EnvelopeError.nonceCounterExhausted(node16: 1, localEpoch: 2)) { _ = try factory.next() }
        }
        #expect(factory.issuedCount == UInt64.max)
    }

    @Test func exhaustionUnderConcurrencyHandsOutEachLastCounterOnce() {
        let factory = NonceFactory(node16: 1, localEpoch: 2, firstCounter: UInt64.max - 1_000)
        let issued = LockedBox<[UInt64]>([])
        CipherFixtures.runConcurrently(threads: 8) { _ in
            var mine: [UInt64] = []
            while let nonce = try? factory.next() { mine.append(nonce.counter) }
            issued.withLock { $0 += mine }
        }
        let all = issued.value
        #expect(all.count == 1_000)
        #expect(Set(all) == Set((UInt64.max - 1_000)..<UInt64.max))
    }

    @Test func concurrentDrawsNeverRepeat() throws {
        let factory = NonceFactory(node16: 7, localEpoch: 9)
        let threads = 8
        let drawsPerThread = 20_000
        let issued = LockedBox<[UInt64]>([])
        CipherFixtures.runConcurrently(threads: threads) { _ in
            var mine: [UInt64] = []
            mine.reserveCapacity(drawsPerThread)
            for _ in 0..<drawsPerThread {
                guard let nonce = try? factory.next() else { return }
                precondition(nonce.node16 == 7 && nonce.localEpoch == 9, "prefix must never change")
                mine.append(nonce.counter)
            }
            issued.withLock { $0 += mine }
        }
        let all = issued.value
        #expect(all.count == threads * drawsPerThread)
        #expect(Set(all).count == all.count)
        #expect(all.max() == UInt64(threads * drawsPerThread - 1))
        #expect(factory.issuedCount == UInt64(threads * drawsPerThread))
    }
}
