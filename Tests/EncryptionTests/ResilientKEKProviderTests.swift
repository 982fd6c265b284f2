import Encryption
import Synchronization
import Testing

@Suite struct ResilientKEKProviderTests {
    /// A manual clock: sleeping advances it, so no test waits.
    final class ManualTime: Sendable {
        let now = Mutex(ContinuousClock.now)
        let slept = Mutex<[Duration]>([])

        var timing: ResilientKEKProvider.Timing {
            ResilientKEKProvider.Timing(
                now: { self.now.withLock { $0 } },
                sleep: { duration in
                    self.slept.withLock { $0.append(duration) }
                    self.now.withLock { $0 += duration }
                },
                jitter: { 1 })
        }

        func advance(_ duration: Duration) { now.withLock { $0 += duration } }
    }

    static let policy = ResilientKEKProvider.Policy(
        attempts: 3, firstBackoff: .milliseconds(100), maxBackoff: .milliseconds(150), openAfterFailures: 5,
        openFor: .seconds(10))

    @Test func transientFailuresAreRetriedWithGrowingCappedPauses() throws {
        let base = OutageKEK(generation: 1, id: "kms")
        let time = ManualTime()
        let provider = ResilientKEKProvider(base, name: "kms", policy: Self.policy, timing: time.timing)
        base.down = true
        #expect(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
        #expect(base.calls == 3)
        #expect(time.slept.withLock { $0 } == [.milliseconds(100), .milliseconds(150)])
        #expect(provider.providerHealth().first?.state == .down)
        base.down = false
        _ = try provider.wrap(.generate())
        #expect(provider.providerHealth().first?.state == .up)
        #expect(provider.providerHealth().first?.consecutiveFailures == 0)
    }

    @Test func answeredRefusalsAreNotRetried() throws {
        let base = OutageKEK(generation: 1, id: "kms")
        let provider = ResilientKEKProvider(base, name: "kms", policy: Self.policy, timing: ManualTime().timing)
        let other = try SidecarTestKEK(generation: 9).wrap(.generate())
        #expect(throws: KEKProviderError.mismatch(provider: "kms")) { try provider.unwrap(other) }
        #expect(base.calls == 1)
    }

    @Test func theCircuitOpensFailsFastAndLetsOneProbeThroughAfterThePause() throws {
        let base = OutageKEK(generation: 1, id: "kms")
        let time = ManualTime()
        let provider = ResilientKEKProvider(base, name: "kms", policy: Self.policy, timing: time.timing)
        base.down = true
        for _ in 0..<2 { _ = try? provider.wrap(.generate()) }  // 6 transient failures: open after the fifth
        #expect(provider.providerHealth().first?.state == .circuitOpen)
        let callsWhenOpened = base.calls
        #expect(callsWhenOpened == 5)
        let fast = #expect(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
        #expect(base.calls == callsWhenOpened)
        #expect(fast?.isTransient == true)
        #expect("\(fast!)".contains("circuit open"))
        time.advance(.seconds(11))
        _ = try? provider.wrap(.generate())  // the probe fails: open again after one call
        #expect(base.calls == callsWhenOpened + 1)
        #expect(provider.providerHealth().first?.state == .circuitOpen)
        time.advance(.seconds(11))
        base.down = false
        _ = try provider.wrap(.generate())
        #expect(provider.providerHealth().first?.state == .up)
    }
}
