import DurableIO

/// Why the durable Raft log refused an operation or could not open.
///
/// Every case names what happened and, in its description, what an operator or caller should do.
public enum RaftLogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A segment holds bytes that are not a torn tail: a bad record followed by valid ones, a bad record in a
    /// segment that is not the last, a wrong index, or a gap between segments or after the snapshot.
    case corruptLog(file: String, offset: Int, reason: String)
    /// The hard-state file exists but does not decode. It is only ever replaced atomically, so this is damage.
    case corruptHardState(file: String, reason: String)
    /// The persisted commit index is past the last recovered entry: entries known to be committed are missing.
    case commitBeyondLog(commit: UInt64, lastIndex: UInt64)
    /// A storage file carries a format version this build does not read: a newer build wrote it. The file is
    /// left untouched.
    case unsupportedFormatVersion(file: String, version: UInt16)
    /// A file-system operation failed.
    case io(FileSystemError)
    /// An earlier write, fsync, rename, truncate or remove failed; the log refuses every change until it is
    /// reopened, because after a failed fsync the kernel may have dropped the unsynced pages.
    case logFailed(reason: String)
    /// An append does not continue the log: its first entry's index is not `lastIndex + 1`, or indexes
    /// inside the batch are not consecutive.
    case nonContiguousAppend(expectedIndex: UInt64, actualIndex: UInt64)
    /// An entry's term is lower than the term of the entry before it.
    case termRegression(index: UInt64, term: UInt64, previousTerm: UInt64)
    /// One entry encodes to more than the configured record limit.
    case entryTooLarge(index: UInt64, bytes: Int, limit: Int)
    /// One append call carries more entries than the configured limit.
    case batchTooLarge(entries: Int, limit: Int)
    /// Appending would buffer more unsynced bytes than the configured limit; call ``DurableLog/sync()`` first.
    case unsyncedBytesLimitReached(bytes: Int, limit: Int)
    /// An index given to truncate or compact lies outside what the log holds.
    case indexOutOfRange(index: UInt64, firstIndex: UInt64, lastIndex: UInt64)
    /// Compaction was asked to go past the newest durable snapshot.
    case compactionBeyondSnapshot(requested: UInt64, snapshotIndex: UInt64)
    /// A snapshot at or before the newest saved snapshot was offered.
    case snapshotOutOfDate(index: UInt64, newestIndex: UInt64)
    /// A snapshot is larger than the configured limit.
    case snapshotTooLarge(bytes: Int, limit: Int)
    /// Bootstrap was asked of a storage that already holds a snapshot, entries or a hard state.
    case alreadyInitialized

    public var description: String {
        switch self {
        case .corruptLog(let file, let offset, let reason):
            return "Raft log corrupt in \(file) at offset \(offset): \(reason); restore this node's data directory "
                + "from a replica or remove it and let the node catch up from a snapshot"
        case .corruptHardState(let file, let reason):
            return "Raft hard state \(file) is corrupt: \(reason); the node cannot know its term and vote, "
                + "restore the data directory or rebuild the node"
        case .commitBeyondLog(let commit, let lastIndex):
            return "hard state commit index \(commit) is past the last log entry \(lastIndex): committed entries "
                + "are missing; restore this node's data directory from a replica or rebuild the node"
        case .unsupportedFormatVersion(let file, let version):
            return "\(file) has format version \(version), which this build does not read; run the newer build "
                + "that wrote it"
        case .io(let error):
            return "Raft log I/O failed: \(error); check the disk, then restart the node"
        case .logFailed(let reason):
            return "Raft log refuses changes after an earlier failure (\(reason)); reopen the log (restart the node)"
        case .nonContiguousAppend(let expected, let actual):
            return "append must continue the log at index \(expected), got \(actual); truncate the suffix first"
        case .termRegression(let index, let term, let previous):
            return "entry \(index) has term \(term), lower than the previous entry's term \(previous)"
        case .entryTooLarge(let index, let bytes, let limit):
            return "entry \(index) encodes to \(bytes) bytes, over the \(limit)-byte record limit; split the command"
        case .batchTooLarge(let entries, let limit):
            return "append of \(entries) entries exceeds the limit of \(limit) per call; append in smaller batches"
        case .unsyncedBytesLimitReached(let bytes, let limit):
            return "append would buffer \(bytes) unsynced bytes, over the \(limit)-byte limit; sync first"
        case .indexOutOfRange(let index, let first, let last):
            return "index \(index) is outside the log [\(first), \(last)]"
        case .compactionBeyondSnapshot(let requested, let snapshotIndex):
            return "cannot compact to \(requested): the newest durable snapshot is at \(snapshotIndex); "
                + "save a snapshot first"
        case .snapshotOutOfDate(let index, let newest):
            return "snapshot at \(index) is not newer than the saved snapshot at \(newest); it was ignored"
        case .snapshotTooLarge(let bytes, let limit):
            return "snapshot of \(bytes) bytes exceeds the \(limit)-byte limit; raise maxSnapshotBytes"
        case .alreadyInitialized:
            return "storage already holds Raft state; bootstrap only an empty data directory"
        }
    }
}
