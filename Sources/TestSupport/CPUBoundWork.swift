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
    public static func run<Result, Failure>(_ body: () throws(Failure) -> Result) async throws(Failure) -> Result {
        try await withTaskExecutorPreference(executor) { () throws(Failure) in try body() }
    }

    /// Whether the caller runs on one of the threads of ``run(_:)``.
    public static var isOnItsThread: Bool { ExecutorThread.isMarked(by: executor) }
}

/// Runs test work that blocks its thread without computing — waiting for a process to start or exit, polling
/// with sleeps, a synchronous network call — on a thread of its own (a new one per call, any number at once),
/// so the wait holds no pool thread and takes no ``CPUBoundWork`` slot. Like ``CPUBoundWork``, the work runs
/// in the calling task, so the test's `#expect`s are attributed to it.
public enum BlockingWork {
    private static let executor = ThreadPerJobExecutor()

    /// Runs `body` on a new thread and returns its result.
    public static func run<Result, Failure>(_ body: () throws(Failure) -> Result) async throws(Failure) -> Result {
        try await withTaskExecutorPreference(executor) { () throws(Failure) in try body() }
    }

    /// Whether the caller runs on a thread of ``run(_:)``.
    public static var isOnItsThread: Bool { ExecutorThread.isMarked(by: executor) }
}

/// Marks the threads of an executor, so a test can tell where its work ran.
enum ExecutorThread {
    private static let key = "elastickv.test-executor"

    static func mark(for executor: AnyObject) { Thread.current.threadDictionary[key] = ObjectIdentifier(executor) }

    static func isMarked(by executor: AnyObject) -> Bool {
        Thread.current.threadDictionary[key] as? ObjectIdentifier == ObjectIdentifier(executor)
    }
}

/// A task executor that runs each job on a new thread.
final class ThreadPerJobExecutor: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        Thread { [self] in
            ExecutorThread.mark(for: self)
            job.runSynchronously(on: asUnownedTaskExecutor())
        }.start()
    }
}

/// A task executor with a fixed set of threads that run its jobs in the order they were enqueued.
final class DedicatedThreadsExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []  // oldest first (a handful at most: one per waiting test); guarded by `condition`

    init(threads: Int) {
        for _ in 0..<threads {
            let thread = Thread { [self] in
                ExecutorThread.mark(for: self)
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
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
