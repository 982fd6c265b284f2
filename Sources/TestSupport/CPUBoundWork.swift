import Foundation

/// Runs long CPU-bound test work on its own thread instead of the Swift concurrency pool.
///
/// The cooperative pool has one thread per core (two on CI). Synchronous tests that compute for seconds — the
/// Raft simulator, the linearizability checker — would hold those threads and starve the actors and event
/// loops of the networked tests running beside them, whose elections and timeouts then fail. Such work runs
/// here instead, at most ``maxConcurrentThreads`` at a time, and the calling test suspends without holding
/// a pool thread; the kernel then shares the cores fairly between this work and everything else.
public enum CPUBoundWork {
    /// How many threads may compute at once: one per core.
    public static let maxConcurrentThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    private static let slots = DispatchSemaphore(value: maxConcurrentThreads)

    /// Runs `body` on a dedicated thread and returns its result.
    public static func run<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                slots.wait()
                defer { slots.signal() }
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
