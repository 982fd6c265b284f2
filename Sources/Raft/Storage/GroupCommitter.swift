/// Lets many threads append to one ``DurableLog`` and wait for durability, with one fsync per batch.
///
/// Leader–follower group commit: a caller appends its entries to the log's memory under the lock, then
/// waits until a sync covers them. If no sync is running, the caller becomes the leader: it takes every
/// entry appended so far into a ``SyncJob``, releases the lock, writes and fsyncs, and publishes the result.
/// Callers arriving during that fsync append and wait; the next leader makes all of them durable with one
/// fsync. The number of fsyncs is therefore at most the number of appends, and much lower under load.
///
/// A failed sync fails every caller whose entries it covered and every later caller: the log must be
/// reopened (see ``DurableLog``). Everything else (reads, truncation, snapshots) goes through
/// ``withLog(_:)``, which waits for the running sync to end.
public final class GroupCommitter: @unchecked Sendable {
    private let lock = ConditionLock()
    /// Accessed only with `lock` held; the job in flight touches no log state.
    private let log: DurableLog
    /// The most entries appended but not yet durable; further appenders wait for the running sync.
    public let maxUnsyncedEntries: Int
    private var appendSequence: UInt64 = 0
    private var durableSequence: UInt64 = 0
    private var syncRunning = false
    private var failure: RaftLogError?
    private var completedSyncs = 0
    private var completedAppends = 0

    /// Wraps a log; from now on use it only through this committer.
    ///
    /// - Parameter maxUnsyncedEntries: bound on entries buffered in memory while a sync runs.
    public init(log: sending DurableLog, maxUnsyncedEntries: Int = 64 * 1024) {
        precondition(maxUnsyncedEntries >= 1, "maxUnsyncedEntries must allow one entry")
        self.log = log
        self.maxUnsyncedEntries = maxUnsyncedEntries
    }

    /// Appends entries built from the next free index and returns once they are durable.
    ///
    /// `makeEntries` runs with the lock held and receives `lastIndex + 1`; it must return entries starting
    /// there (it lets concurrent proposers be numbered in the order they win the lock). When the buffered
    /// entries would exceed ``maxUnsyncedEntries`` or the log's `maxUnsyncedBytes`, the caller first waits
    /// for (or leads) a sync and `makeEntries` is called again; only its last result is appended.
    ///
    /// - Returns: the indexes of the appended entries.
    /// - Throws: the append's validation error (nothing appended), or the failure of the sync that covered
    ///   the entries, or ``RaftLogError/logFailed(reason:)`` after an earlier failure.
    @discardableResult
    public func append(_ makeEntries: (_ nextIndex: UInt64) -> [Entry]) throws(RaftLogError) -> ClosedRange<UInt64> {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        var entries = makeEntries(log.lastIndex + 1)
        precondition(!entries.isEmpty, "a group-commit append carries at least one entry")
        while log.unsyncedEntryCount > 0, exceedsBufferLimits(entries) {
            if let failure { throw failure }
            if syncRunning { lock.wait() } else { try leadSync() }
            entries = makeEntries(log.lastIndex + 1)
        }
        try log.append(entries)
        appendSequence += 1
        let ticket = appendSequence
        while durableSequence < ticket {
            if let failure { throw failure }
            if syncRunning { lock.wait() } else { try leadSync() }
        }
        completedAppends += 1
        return entries[0].index...entries[entries.count - 1].index
    }

    /// Whether buffering `entries` would pass the entry or byte bound on unsynced data.
    private func exceedsBufferLimits(_ entries: [Entry]) -> Bool {
        log.unsyncedEntryCount + entries.count > maxUnsyncedEntries
            || log.unwrittenByteCount + DurableLog.encodedSize(of: entries) > log.configuration.maxUnsyncedBytes
    }

    /// Appends `entries` (which must continue the log) and returns once they are durable.
    public func append(_ entries: [Entry]) throws(RaftLogError) {
        try append { _ in entries }
    }

    /// Runs one sync as leader. Called with the lock held; releases it around the file work.
    private func leadSync() throws(RaftLogError) {
        syncRunning = true
        let target = appendSequence
        let job: SyncJob?
        do {
            job = try log.beginSync()
        } catch {
            failure = log.isFailed ? .logFailed(reason: error.description) : error
            syncRunning = false
            lock.broadcast()
            throw error
        }
        guard let job else {
            durableSequence = target
            syncRunning = false
            lock.broadcast()
            return
        }
        lock.unlock()
        let outcome = job.run(on: log.fileSystem)
        lock.lock()
        defer {
            syncRunning = false
            lock.broadcast()
        }
        do {
            try log.finishSync(job, outcome: outcome)
        } catch {
            failure = .logFailed(reason: error.description)
            throw error
        }
        durableSequence = target
        completedSyncs += 1
    }

    /// Runs `body` with exclusive access to the log, after any running sync finished.
    ///
    /// Use it for reads (the log is a ``RaftStorage``), truncation, snapshots, hard state and compaction.
    /// Structural changes sync buffered entries first, so every earlier append is durable afterwards.
    public func withLog<Result>(_ body: (DurableLog) throws(RaftLogError) -> Result) throws(RaftLogError) -> Result {
        lock.lock()
        defer {
            if log.unsyncedEntryCount == 0 && !log.isFailed { durableSequence = appendSequence }
            if log.isFailed && failure == nil { failure = .logFailed(reason: "the log failed inside withLog") }
            lock.broadcast()
            lock.unlock()
        }
        while syncRunning { lock.wait() }
        return try body(log)
    }

    /// How many syncs (fsync batches) and appends completed, for monitoring and tests.
    public var statistics: (syncs: Int, appends: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (completedSyncs, completedAppends)
    }
}
