import DurableIO

/// The durable Raft storage of one node: a segmented append-only log, the hard state and snapshots.
///
/// Layout under `directory`: `log/<first index, 20 digits>.seg` segments, `snap/<index>-<term>.snap`
/// snapshots and the `hardstate` file (byte formats in `docs/raft.md`, "Storage format"). All file access goes through
/// the ``FileSystem`` protocol, so the crash behaviour is tested on a simulated disk.
///
/// Writes follow the ready-batch order of the consensus core: ``append(_:)`` only buffers entries in
/// memory; ``sync()`` writes everything buffered and fsyncs it once (group commit), and only entries whose
/// `sync()` returned may be acknowledged. ``truncateSuffix(from:)``, ``setHardState(_:)``,
/// ``saveSnapshot(_:)`` and ``compact(upTo:)`` are durable when they return.
///
/// After any failed write, fsync, rename, truncate or remove the log refuses further changes
/// (``RaftLogError/logFailed(reason:)``) until it is reopened: once `fsync` has reported an error, Linux
/// may already have dropped the dirty pages and marked them clean, so a retried `fsync` can succeed without
/// the data ever reaching the disk. Reopening re-reads what is actually on disk.
///
/// Not thread-safe: one owner calls it, or a ``GroupCommitter`` serialises access for many threads.
public final class DurableLog: RaftStorage {
    let fileSystem: any FileSystem
    /// The limits this log enforces.
    public let configuration: RaftLogConfiguration
    let directory: String
    let logDirectory: String
    let snapshotDirectory: String
    let hardStatePath: String

    var segments: [LogSegment] = []
    /// The open handle of the last segment, when it has one.
    var activeFile: (any WritableFile)?
    var activeFileIndex: UInt64 = 0
    /// Entries at or before this index are not served (they are covered by a snapshot).
    var compactedIndex: UInt64 = 0
    var compactedTerm: UInt64 = 0
    /// Entries up to here are on files (written by a finished sync).
    var writtenLastIndex: UInt64 = 0
    /// The entries up to here survive a crash.
    public internal(set) var durableLastIndex: UInt64 = 0
    var cache: EntryCache
    /// The persisted hard state.
    public internal(set) var hardState = HardState()
    /// Metadata of the newest durable snapshot, `nil` before the first.
    var newestSnapshot: SnapshotMetadata?
    /// Names of the valid snapshot files, oldest first.
    var snapshotFileNames: [String] = []
    var failure: RaftLogError?
    var syncInFlight = false
    /// Bytes appended since the last sync began (bounded by ``RaftLogConfiguration/maxUnsyncedBytes``).
    var unwrittenByteCount = 0
    /// Set by ``rollSegment()``: the next appended entry starts a new segment file.
    var rollBeforeNextAppend = false
    /// The bytes of the segment read last, so sequential reads of old entries read each file once.
    var readBuffer: (fileName: String, bytes: [UInt8])?

    init(directory: String, fileSystem: any FileSystem, configuration: RaftLogConfiguration) {
        self.fileSystem = fileSystem
        self.configuration = configuration
        self.directory = directory
        self.logDirectory = joinPath(directory, "log")
        self.snapshotDirectory = joinPath(directory, "snap")
        self.hardStatePath = joinPath(directory, "hardstate")
        self.cache = EntryCache(maxEntries: configuration.maxCachedEntries, maxBytes: configuration.maxCachedBytes)
    }

    /// Whether an earlier failure made the log refuse changes.
    public var isFailed: Bool { failure != nil }

    /// The number of appended entries that are not durable yet.
    public var unsyncedEntryCount: Int { Int(lastIndex - min(lastIndex, durableLastIndex)) }

    /// Buffers entries at the end of the log; they become durable with the next ``sync()``.
    ///
    /// The entries must continue the log (first index `lastIndex + 1`, consecutive indexes, terms never
    /// decreasing). To replace a conflicting suffix, call ``truncateSuffix(from:)`` first. Nothing is changed
    /// when the call throws.
    ///
    /// - Throws: ``RaftLogError/nonContiguousAppend(expectedIndex:actualIndex:)``,
    ///   ``RaftLogError/termRegression(index:term:previousTerm:)``, ``RaftLogError/entryTooLarge(index:bytes:limit:)``,
    ///   ``RaftLogError/batchTooLarge(entries:limit:)``, ``RaftLogError/logFailed(reason:)``.
    public func append(_ entries: [Entry]) throws(RaftLogError) {
        try checkUsable()
        guard !entries.isEmpty else { return }
        try validate(entries)
        for entry in entries { appendRecord(entry) }
    }

    private func validate(_ entries: [Entry]) throws(RaftLogError) {
        guard entries.count <= configuration.maxEntriesPerAppend else {
            throw .batchTooLarge(entries: entries.count, limit: configuration.maxEntriesPerAppend)
        }
        let batchBytes = Self.encodedSize(of: entries)
        guard unwrittenByteCount + batchBytes <= configuration.maxUnsyncedBytes else {
            throw .unsyncedBytesLimitReached(
                bytes: unwrittenByteCount + batchBytes, limit: configuration.maxUnsyncedBytes)
        }
        var expectedIndex = lastIndex + 1
        var previousTerm = lastTerm
        for entry in entries {
            guard entry.index == expectedIndex else {
                throw .nonContiguousAppend(expectedIndex: expectedIndex, actualIndex: entry.index)
            }
            guard entry.term >= previousTerm else {
                throw .termRegression(index: entry.index, term: entry.term, previousTerm: previousTerm)
            }
            let size = LogRecordCodec.encodedSize(of: entry)
            guard size <= configuration.maxRecordBytes else {
                throw .entryTooLarge(index: entry.index, bytes: size, limit: configuration.maxRecordBytes)
            }
            expectedIndex += 1
            previousTerm = entry.term
        }
    }

    /// The bytes `entries` add to the log, not counting a segment header.
    static func encodedSize(of entries: [Entry]) -> Int {
        entries.reduce(0) { $0 + LogRecordCodec.encodedSize(of: $1) }
    }

    /// The term of the last entry (or of the compaction point when the log is empty).
    var lastTerm: UInt64 {
        for segment in segments.reversed() { if let term = segment.terms.last { return term } }
        return compactedTerm
    }

    private func appendRecord(_ entry: Entry) {
        let recordSize = LogRecordCodec.encodedSize(of: entry)
        if segments.isEmpty
            || ((rollBeforeNextAppend || segments[segments.count - 1].byteCount + recordSize > configuration.maxSegmentBytes)
                && !segments[segments.count - 1].terms.isEmpty)
        {
            rollBeforeNextAppend = false
            var segment = LogSegment(firstIndex: entry.index, byteCount: SegmentHeaderCodec.size, writtenByteCount: 0)
            segment.unwrittenBytes = SegmentHeaderCodec.encode(firstIndex: entry.index)
            unwrittenByteCount += SegmentHeaderCodec.size
            segments.append(segment)
        }
        let last = segments.count - 1
        precondition(segments[last].lastIndex + 1 == entry.index, "segment \(segments[last].fileName) is not continued")
        segments[last].offsets.append(UInt32(segments[last].byteCount))
        segments[last].terms.append(entry.term)
        let recordStart = segments[last].unwrittenBytes.count
        LogRecordCodec.encode(entry, into: &segments[last].unwrittenBytes)
        assert(
            (try? LogRecordCodec.decode(
                segments[last].unwrittenBytes, at: recordStart, maxRecordBytes: configuration.maxRecordBytes))?.entry
                == entry, "record encoding of entry \(entry.index) does not decode back")
        segments[last].byteCount += recordSize
        unwrittenByteCount += recordSize
        cache.append(entry)
    }

    /// Writes every buffered entry and makes it durable with one fsync per touched segment.
    ///
    /// When it returns, every entry appended before the call survives a crash. When it throws, the log is
    /// failed (see the type's documentation) and must be reopened; what survives is a prefix of the log.
    public func sync() throws(RaftLogError) {
        guard let job = try beginSync() else { return }
        let outcome = job.run(on: fileSystem)
        try finishSync(job, outcome: outcome)
    }

    /// Takes the unwritten bytes into a job; `nil` when everything is already durable.
    func beginSync() throws(RaftLogError) -> SyncJob? {
        try checkUsable()
        precondition(!syncInFlight, "only one sync may be in flight")
        var steps: [SyncJob.Step] = []
        for position in segments.indices where !segments[position].unwrittenBytes.isEmpty {
            let segment = segments[position]
            var file: (any WritableFile)?
            if let active = activeFile, activeFileIndex == segment.firstIndex {
                file = active
                activeFile = nil
            }
            steps.append(
                SyncJob.Step(
                    firstIndex: segment.firstIndex, path: joinPath(logDirectory, segment.fileName),
                    bytes: segment.unwrittenBytes, file: file, createsFile: !segment.fileExists))
            segments[position].unwrittenBytes = []
        }
        guard !steps.isEmpty else { return nil }
        unwrittenByteCount = 0
        if let stale = activeFile {
            activeFile = nil
            try failing { () throws(RaftLogError) in try withIO { () throws(FileSystemError) in try stale.close() } }
        }
        syncInFlight = true
        return SyncJob(steps: steps, logDirectory: logDirectory, lastIndex: lastIndex)
    }

    /// Records the outcome of a job built by ``beginSync()``.
    func finishSync(_ job: SyncJob, outcome: SyncJob.Outcome) throws(RaftLogError) {
        precondition(syncInFlight, "finishing a sync that was not begun")
        syncInFlight = false
        switch outcome {
        case .failed(let error):
            let reported = RaftLogError.io(error)
            failure = .logFailed(reason: reported.description)
            throw reported
        case .written(let lastFile):
            for step in job.steps {
                guard let position = segments.firstIndex(where: { $0.firstIndex == step.firstIndex }) else {
                    preconditionFailure("segment \(step.path) vanished during a sync")
                }
                segments[position].writtenByteCount += step.bytes.count
            }
            activeFile = lastFile
            activeFileIndex = job.steps[job.steps.count - 1].firstIndex
            writtenLastIndex = max(writtenLastIndex, job.lastIndex)
            durableLastIndex = max(durableLastIndex, job.lastIndex)
            cache.evict(keepingUnwrittenAfter: writtenLastIndex)
            if let buffered = readBuffer, job.steps.contains(where: { $0.path.hasSuffix(buffered.fileName) }) {
                readBuffer = nil
            }
        }
    }

    /// Makes buffered entries durable before a structural change (truncate, compact, snapshot).
    func syncIfNeeded() throws(RaftLogError) {
        if segments.contains(where: { !$0.unwrittenBytes.isEmpty }) { try sync() }
    }

    /// Closes the open segment file. Entries appended but not synced are discarded.
    public func close() throws(RaftLogError) {
        precondition(!syncInFlight, "closing the log while a sync is in flight")
        guard let file = activeFile else { return }
        activeFile = nil
        try withIO { () throws(FileSystemError) in try file.close() }
    }

    func checkUsable() throws(RaftLogError) {
        if let failure { throw failure }
    }

    /// Runs a change to files; any failure makes the log refuse further changes.
    func failing<T>(_ body: () throws(RaftLogError) -> T) throws(RaftLogError) -> T {
        try checkUsable()
        do {
            return try body()
        } catch {
            failure = .logFailed(reason: error.description)
            throw error
        }
    }
}

/// Runs a file-system call, reporting its failure as ``RaftLogError/io(_:)``.
func withIO<T>(_ body: () throws(FileSystemError) -> T) throws(RaftLogError) -> T {
    do {
        return try body()
    } catch {
        throw .io(error)
    }
}
