#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex with one condition variable, for threads that block until shared state changes.
///
/// The standard library's `Mutex` has no condition variable, and the group committer needs its waiters to
/// sleep, not spin, while one thread fsyncs. The pthread objects live in stable heap memory because they
/// must never move.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = UnsafeMutablePointer.allocate(capacity: 1)
        condition = UnsafeMutablePointer.allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        precondition(pthread_cond_init(condition, nil) == 0, "pthread_cond_init failed")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() {
        precondition(pthread_mutex_lock(mutex) == 0, "pthread_mutex_lock failed")
    }

    func unlock() {
        precondition(pthread_mutex_unlock(mutex) == 0, "pthread_mutex_unlock failed")
    }

    /// Atomically releases the lock and sleeps until ``broadcast()``; holds the lock again on return.
    func wait() {
        precondition(pthread_cond_wait(condition, mutex) == 0, "pthread_cond_wait failed")
    }

    /// Wakes every waiter. Call with the lock held.
    func broadcast() {
        precondition(pthread_cond_broadcast(condition) == 0, "pthread_cond_broadcast failed")
    }
}
