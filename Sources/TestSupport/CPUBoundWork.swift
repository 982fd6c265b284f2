import Foundation

/// Runs long CPU-bound test work on threads of its own instead of the Swift concurrency pool.
///
/// The cooperative pool has one thread per core (two on CI). Synchronous tests that compute for seconds — the
/// Raft simulator, the linearizability checker, the storage and state-machine model tests, the runaway-script
/// tests — would hold those threads and starve the actors, event loops and bounded waits of the networked tests
/// running beside them, whose elections and deadlines then fail (a fresh-clone CI run once starved every async
/// test for 65 s). Such work runs here instead, at most ``maxConcurrentThreads`` at a time, while the calling
/// test suspends without holding a pool thread; the kernel then shares the cores fairly between this work and
/// everything else.
///
/// The work runs *in the calling task* (through a task executor preference), so `#expect`, `Issue.record` and
/// every other task-local of the running test see the test they belong to.
public enum CPUBoundWork {
    /// How many threads may compute at once: one per core.
    public static let maxConcurrentThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    private static let executor = DedicatedThreadsExecutor(threads: maxConcurrentThreads)

    /// Runs `body` on one of the dedicated threads and returns its result.
    public static func run<Result>(_ body: () throws -> Result) async throws -> Result {
        try await withTaskExecutorPreference(executor) { try body() }
    }

    /// Whether the caller runs on one of the threads of ``run(_:)``.
    public static var isOnItsThread: Bool { DedicatedThreadsExecutor.isOnItsThread }
}

/// Runs test work that blocks its thread without computing — waiting for a process to start or exit, polling
/// with sleeps, a synchronous network call — on a thread of its own (a new one per call, any number at once),
/// so the wait holds no pool thread and takes no ``CPUBoundWork`` slot. Like ``CPUBoundWork``, the work runs
/// in the calling task, so the test's `#expect`s are attributed to it.
public enum BlockingWork {
    private static let executor = ThreadPerJobExecutor()

    /// Runs `body` on a new thread and returns its result.
    public static func run<Result>(_ body: () throws -> Result) async throws -> Result {
        try await withTaskExecutorPreference(executor) { try body() }
    }

    /// Whether the caller runs on a thread of ``run(_:)``.
    public static var isOnItsThread: Bool { ThreadPerJobExecutor.isOnItsThread }
}

/// A task executor that runs each job on a new thread.
final class ThreadPerJobExecutor: TaskExecutor {
    private static let marker = "elastickv.thread-per-job-executor"

    static var isOnItsThread: Bool { Thread.current.threadDictionary[marker] != nil }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        Thread { [self] in
            Thread.current.threadDictionary[Self.marker] = true
            job.runSynchronously(on: asUnownedTaskExecutor())
        }.start()
    }
}

/// A task executor with a fixed set of threads that run its jobs in the order they were enqueued.
final class DedicatedThreadsExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []  // guarded by `condition`
    private var next = 0  // index of the oldest job not yet taken; guarded by `condition`

    private static let marker = "elastickv.dedicated-threads-executor"

    static var isOnItsThread: Bool { Thread.current.threadDictionary[marker] != nil }

    init(threads: Int) {
        for _ in 0..<threads {
            let thread = Thread { [self] in
                Thread.current.threadDictionary[Self.marker] = true
                work()
            }
            thread.stackSize = 8 << 20  // the simulator recurses deeper than the default 512 KiB allows
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() -> Never {
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next == jobs.count {  // drained: drop what was run so the queue does not grow
                jobs.removeAll(keepingCapacity: true)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
