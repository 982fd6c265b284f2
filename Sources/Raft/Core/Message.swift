/// One message between two members, as handed out in ``Ready/messages`` and given to ``RaftNode/step(_:)``.
///
/// Fields are shared between kinds, as in the paper's RPCs: `index`/`logTerm` are the previous log position
/// for ``MessageKind/append``, the last log position for votes, and the match index in responses.
public struct Message: Sendable, Hashable {
    /// What the message asks or answers.
    public var kind: MessageKind
    /// The sender.
    public var from: NodeID
    /// The recipient.
    public var to: NodeID
    /// The sender's term (for pre-votes: the term the sender would campaign in).
    public var term: UInt64
    /// The term of the log position in `index` (previous entry for appends, last entry for votes).
    public var logTerm: UInt64
    /// A log position: previous index for appends, last index for votes, match index for responses, read
    /// index for read-index responses, snapshot index for snapshot-chunk responses.
    public var index: UInt64
    /// Entries to append, after `index`.
    public var entries: [Entry]
    /// The leader's commit index (for heartbeats: at most what the follower is known to hold).
    public var commit: UInt64
    /// Set in responses that refuse the request.
    public var reject: Bool
    /// For a refused append: the highest index the follower might share with the leader.
    public var rejectHint: UInt64
    /// For a refused append: the term of the follower's entry at `rejectHint` (0 when unknown).
    public var rejectHintTerm: UInt64
    /// For ``MessageKind/snapshotChunk``; for ``MessageKind/snapshotChunkResponse`` only the byte count
    /// assembled so far travels, in `rejectHint`.
    public var snapshotChunk: SnapshotChunk?
    /// A read-index request context, echoed back in responses.
    public var context: [UInt8]
    /// Set on a vote that follows a leadership transfer: receivers disregard their leader lease.
    public var isLeadershipTransfer: Bool

    public init(
        kind: MessageKind, from: NodeID, to: NodeID, term: UInt64, logTerm: UInt64 = 0, index: UInt64 = 0,
        entries: [Entry] = [], commit: UInt64 = 0, reject: Bool = false, rejectHint: UInt64 = 0,
        rejectHintTerm: UInt64 = 0, snapshotChunk: SnapshotChunk? = nil, context: [UInt8] = [],
        isLeadershipTransfer: Bool = false
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.rejectHintTerm = rejectHintTerm
        self.snapshotChunk = snapshotChunk
        self.context = context
        self.isLeadershipTransfer = isLeadershipTransfer
    }

    /// Approximate wire size, used by flow control: entry payloads plus a fixed header per entry.
    public var payloadBytes: Int {
        entries.reduce(0) { $0 + $1.data.count + Entry.headerBytes } + (snapshotChunk?.data.count ?? 0)
    }
}
