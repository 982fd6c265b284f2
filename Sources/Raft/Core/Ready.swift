/// Everything the driver must do after the core changed state, in the order it must be done.
///
/// 1. **Persist** `hardState` (when non-nil), `snapshot` (when non-nil) and `entries` (appending them, after
///    discarding any stored entries at or after the first one's index) — durably (fsync, see ``mustSync``)
///    before step 2. Entries must be durable no later than a hard state whose commit index covers them.
/// 2. **Send** `messages`. Votes and acknowledgements are promises about persisted state, which is why they
///    go after step 1.
/// 3. **Apply** `snapshot` to the state machine when non-nil, then `committedEntries` in order; answer
///    `readStates` once the state machine has applied up to each one's index.
/// 4. Call ``RaftNode/advance(_:)`` with this batch. Do not call ``RaftNode/ready()`` again before.
///
/// When ``maySendBeforePersisting`` is set, step 2 may come before step 1 (or run concurrently with it).
public struct Ready: Sendable, Hashable {
    /// The term, vote and commit index to persist, when they changed since the last batch.
    public var hardState: HardState?
    /// Entries to append to the stable log.
    public var entries: [Entry]
    /// A snapshot received from the leader: persist it (replacing the log up to its index) and apply it.
    public var snapshot: Snapshot?
    /// Messages to send once the state above is durable.
    public var messages: [Message]
    /// Committed entries to apply to the state machine, in index order.
    public var committedEntries: [Entry]
    /// Confirmed read indices for ``RaftNode/readIndex(context:)`` requests.
    public var readStates: [ReadState]
    /// Whether step 1 must end with an fsync: entries, a snapshot, or a new term or vote are to be persisted.
    /// A batch that only moves the commit index may be written without one (the commit index can be
    /// recomputed after a crash), which lets a driver skip the sync on most follower batches.
    public var mustSync: Bool
    /// Whether the messages promise nothing about this member's disk, so they may be sent before step 1: a
    /// leader's appends and heartbeats, in a batch that persists no new term or vote. The leader's write then
    /// overlaps the followers' (Raft thesis §10.2.1); it counts its own entries towards a quorum only once
    /// ``RaftNode/advance(_:)`` reports them persisted.
    public var maySendBeforePersisting: Bool = false

    public init(
        hardState: HardState? = nil, entries: [Entry] = [], snapshot: Snapshot? = nil, messages: [Message] = [],
        committedEntries: [Entry] = [], readStates: [ReadState] = [], mustSync: Bool = false
    ) {
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.messages = messages
        self.committedEntries = committedEntries
        self.readStates = readStates
        self.mustSync = mustSync
    }

    /// Whether the batch asks for nothing.
    public var isEmpty: Bool {
        hardState == nil && entries.isEmpty && snapshot == nil && messages.isEmpty && committedEntries.isEmpty
            && readStates.isEmpty
    }
}
