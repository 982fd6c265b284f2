import Foundation
import Testing
import TestSupport

/// ``CPUBoundWork`` and ``BlockingWork`` move synchronous work off the cooperative pool, into the calling test.
@Suite struct CPUBoundWorkTests {
    @Test func cpuBoundWorkRunsOnItsOwnThreadsAndReturnsTheResult() async throws {
        #expect(!CPUBoundWork.isOnItsThread)
        #expect(try await CPUBoundWork.run { CPUBoundWork.isOnItsThread && !BlockingWork.isOnItsThread })
        await #expect(throws: CancellationError.self) { try await CPUBoundWork.run { throw CancellationError() } }
    }

    @Test func blockingWorkRunsOnAThreadOfItsOwn() async throws {
        #expect(!BlockingWork.isOnItsThread)
        #expect(try await BlockingWork.run { BlockingWork.isOnItsThread && !CPUBoundWork.isOnItsThread })
    }

    /// The work runs in the calling task, so what it records (`#expect`, `Issue.record`) belongs to this test.
    @Test func theWorkSeesTheTestItRunsFor() async throws {
        let test = try #require(Test.current)
        #expect(try await CPUBoundWork.run { Test.current?.id } == test.id)
        #expect(try await BlockingWork.run { Test.current?.id } == test.id)
    }

    @Test func atMostOneCPUBoundBodyPerCoreRunsAtOnce() async throws {
        let running = LockedBox((now: 0, most: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<(CPUBoundWork.maxConcurrentThreads + 3) {
                group.addTask {
                    try await CPUBoundWork.run {
                        running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        usleep(20_000)
                        running.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let most = running.value.most
        #expect(most >= 1 && most <= CPUBoundWork.maxConcurrentThreads)
    }

    /// More blocking bodies than cores wait for each other: they only all finish if they all run at once.
    @Test func blockingBodiesAreNotLimitedToTheCores() async throws {
        let count = CPUBoundWork.maxConcurrentThreads + 4
        let arrived = LockedBox(0)
        let deadline = ContinuousClock.now + .seconds(20)
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await BlockingWork.run {
                        arrived.withLock { $0 += 1 }
                        while arrived.value < count, ContinuousClock.now < deadline { usleep(1_000) }
                        return arrived.value == count
                    }
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(met)
    }
}
