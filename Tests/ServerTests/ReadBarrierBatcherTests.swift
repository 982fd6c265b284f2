@testable import Server
import Synchronization
import Testing

/// Concurrent reads share one read barrier, but never one that started before they arrived; rounds that
/// fail because leadership moved are run again.
@Suite struct ReadBarrierBatcherTests {
    /// A barrier that counts its rounds and holds each until released, failing with scripted errors first.
    final class HeldBarrier: Sendable {
        let rounds = Atomic<Int>(0)
        let gates = Mutex<[CheckedContinuation<Void, Never>]>([])
        let failures: Mutex<[BackendError]>

        init(failures: [BackendError] = []) { self.failures = Mutex(failures) }

        func run() async throws(BackendError) {
            rounds.add(1, ordering: .relaxed)
            await withCheckedContinuation { continuation in gates.withLock { $0.append(continuation) } }
            if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        }

        func release() {
            for gate in gates.withLock({ gates in defer { gates = [] }; return gates }) { gate.resume() }
        }

        var held: Int { gates.withLock { $0.count } }
    }

    static func batcher(_ barrier: HeldBarrier) -> ReadBarrierBatcher {
        ReadBarrierBatcher { () throws(BackendError) in try await barrier.run() }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1_000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }

    final class Done: Sendable {
        let flag = Atomic<Bool>(false)
    }

    @Test func readsArrivingDuringARoundShareTheNextOneAndNotTheRunningOne() async throws {
        let barrier = HeldBarrier()
        let batcher = Self.batcher(barrier)
        let first = Task { try await batcher.wait() }
        try await Self.waitUntil { barrier.held == 1 }
        let doneLate = (0..<10).map { _ in Done() }
        let late = doneLate.map { done in
            Task {
                try await batcher.wait()
                done.flag.store(true, ordering: .relaxed)
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        barrier.release()
        try await first.value
        try await Self.waitUntil { barrier.held == 1 }
        #expect(barrier.rounds.load(ordering: .relaxed) == 2)
        #expect(doneLate.allSatisfy { !$0.flag.load(ordering: .relaxed) },
                "a read was served by a round that started before it arrived")
        barrier.release()
        for task in late { try await task.value }
        #expect(barrier.rounds.load(ordering: .relaxed) == 2, "the ten late reads shared one round")
    }

    @Test func aRoundFailingBecauseLeadershipMovedIsRunAgain() async throws {
        let barrier = HeldBarrier(failures: [.noLeader, .tryAgain("leadership changed")])
        let batcher = Self.batcher(barrier)
        let read = Task { () -> BackendError? in
            do throws(BackendError) { try await batcher.wait() } catch { return error }
            return nil
        }
        for round in 1...3 {
            try await Self.waitUntil { barrier.held == 1 && barrier.rounds.load(ordering: .relaxed) == round }
            barrier.release()
        }
        #expect(await read.value == nil)
        #expect(barrier.rounds.load(ordering: .relaxed) == 3)
    }

    @Test func otherFailuresAndTooManyRetriesReachTheReader() async throws {
        let halted = HeldBarrier(failures: [.unavailable("apply halted")])
        let read = Task { () -> BackendError? in
            do throws(BackendError) { try await Self.batcher(halted).wait() } catch { return error }
            return nil
        }
        try await Self.waitUntil { halted.held == 1 }
        halted.release()
        #expect(await read.value == .unavailable("apply halted"))
        #expect(halted.rounds.load(ordering: .relaxed) == 1)

        let noLeader = HeldBarrier(failures: [.noLeader, .noLeader, .noLeader])
        let batcher = Self.batcher(noLeader)
        let second = Task { () -> BackendError? in
            do throws(BackendError) { try await batcher.wait() } catch { return error }
            return nil
        }
        for round in 1...ReadBarrierBatcher.maxAttempts {
            try await Self.waitUntil { noLeader.held == 1 && noLeader.rounds.load(ordering: .relaxed) == round }
            noLeader.release()
        }
        #expect(await second.value == .noLeader)
    }
}
