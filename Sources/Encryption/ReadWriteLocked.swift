#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value that many threads read at once and few threads change, behind a POSIX read-write lock.
///
/// The keyring consults its caches on every seal and open from many threads; with a mutex those callers queue
/// behind each other, and when there are more threads than cores a descheduled holder stalls everyone. Readers
/// of a read-write lock do not exclude each other. Writers are preferred (where the platform allows choosing),
/// so a steady stream of readers cannot starve a cache refresh.
final class ReadWriteLocked<Value>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        #if canImport(Glibc)
            var attributes = pthread_rwlockattr_t()
            pthread_rwlockattr_init(&attributes)
            pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
            let status = pthread_rwlock_init(lock, &attributes)
            pthread_rwlockattr_destroy(&attributes)
        #else
            let status = pthread_rwlock_init(lock, nil)
        #endif
        precondition(status == 0, "a read-write lock must initialise (status \(status))")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Runs `body` with shared read access; other readers may run at the same time.
    func read<Result>(_ body: (borrowing Value) -> Result) -> Result {
        precondition(pthread_rwlock_rdlock(lock) == 0, "taking a read lock must succeed")
        defer { pthread_rwlock_unlock(lock) }
        return body(value)
    }

    /// Runs `body` with exclusive access.
    func write<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        precondition(pthread_rwlock_wrlock(lock) == 0, "taking a write lock must succeed")
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
