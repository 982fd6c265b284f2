/// Limits of the durable Raft log.
///
/// Every buffer, file and batch the log holds is bounded by one of these fields.
public struct RaftLogConfiguration: Sendable, Hashable {
    /// A segment rolls over once the next record would make it larger than this; a single record larger
    /// than this still gets a segment of its own (up to ``maxRecordBytes``).
    public var maxSegmentBytes: Int
    /// The largest encoded record (8-byte prefix, 17-byte entry header and data). Also the bound recovery
    /// trusts a length field up to.
    public var maxRecordBytes: Int
    /// The most entries one ``DurableLog/append(_:)`` call may carry.
    public var maxEntriesPerAppend: Int
    /// The most bytes appended but not yet handed to a sync; an append beyond it is refused until
    /// ``DurableLog/sync()``.
    public var maxUnsyncedBytes: Int
    /// The most recent entries kept in memory for reads without file access.
    public var maxCachedEntries: Int
    /// The most entry data bytes (plus a fixed per-entry overhead) kept in the entry cache.
    public var maxCachedBytes: Int
    /// The largest snapshot data accepted on save and trusted on read.
    public var maxSnapshotBytes: Int
    /// How many snapshot files to keep; older ones are removed after a newer one is durable. At least 1.
    public var retainedSnapshotCount: Int

    /// Creates a configuration; the defaults suit a production node.
    public init(
        maxSegmentBytes: Int = 16 * 1024 * 1024,
        maxRecordBytes: Int = 8 * 1024 * 1024,
        maxEntriesPerAppend: Int = 16 * 1024,
        maxUnsyncedBytes: Int = 64 * 1024 * 1024,
        maxCachedEntries: Int = 8 * 1024,
        maxCachedBytes: Int = 32 * 1024 * 1024,
        maxSnapshotBytes: Int = 1024 * 1024 * 1024,
        retainedSnapshotCount: Int = 2
    ) {
        precondition(maxRecordBytes >= LogRecordCodec.minimumRecordSize, "maxRecordBytes below one empty entry")
        precondition(maxRecordBytes <= Int(UInt32.max), "maxRecordBytes must fit a u32 length")
        precondition(maxSegmentBytes > SegmentHeaderCodec.size, "maxSegmentBytes must exceed the segment header")
        precondition(maxSegmentBytes <= Int(UInt32.max), "segment offsets are stored as u32")
        precondition(maxEntriesPerAppend >= 1 && maxCachedEntries >= 0 && maxCachedBytes >= 0, "negative limit")
        precondition(maxUnsyncedBytes >= maxRecordBytes + SegmentHeaderCodec.size, "one record must fit unsynced")
        precondition(retainedSnapshotCount >= 1, "at least the newest snapshot must be kept")
        self.maxSegmentBytes = maxSegmentBytes
        self.maxRecordBytes = maxRecordBytes
        self.maxEntriesPerAppend = maxEntriesPerAppend
        self.maxUnsyncedBytes = maxUnsyncedBytes
        self.maxCachedEntries = maxCachedEntries
        self.maxCachedBytes = maxCachedBytes
        self.maxSnapshotBytes = maxSnapshotBytes
        self.retainedSnapshotCount = retainedSnapshotCount
    }
}
