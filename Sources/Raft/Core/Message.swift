/// What a ``Message`` asks or answers.
public enum MessageKind: UInt8, Sendable, Hashable {
    /// "Would you vote for me in `term`?" without disturbing anyone's term (the pre-vote phase).
    case preVote
    /// Answer to ``preVote``.
    case preVoteResponse
    /// "Vote for me in `term`", carrying the candidate's last log position.
    case vote
    /// Answer to ``vote``.
    case voteResponse
    /// Leader to follower: entries after (`index`, `logTerm`) and the leader's commit index.
    case append
    /// Follower to leader: accepted through `index`, or rejected with a hint.
    case appendResponse
    /// Leader to follower: "I am still leader"; carries a commit index and a read-index context.
    case heartbeat
    /// Follower to leader: answer to ``heartbeat``, echoing its context.
    case heartbeatResponse
    /// Leader to follower: one chunk of a snapshot.
    case snapshotChunk
    /// Follower to leader: how many bytes of the snapshot at `index` it has assembled.
    case snapshotChunkResponse
    /// Leader to its chosen successor: "start an election now" (leadership transfer).
    case timeoutNow
    /// Follower to leader: "tell me a read index for this context".
    case readIndex
    /// Leader to follower: the read index for a context the follower asked about.
    case readIndexResponse
}

/// A chunk of a snapshot in flight from a leader to a follower.
///
/// A snapshot travels as consecutive chunks of at most ``RaftConfiguration/maxSnapshotChunkBytes``; the
/// follower reassembles them and installs the snapshot only when the chunk with `isLast` arrives in order.
public struct SnapshotChunk: Sendable, Hashable {
    /// The snapshot this chunk belongs to.
    public var metadata: SnapshotMetadata
    /// Where `data` starts inside the snapshot's data.
    public var offset: Int
    /// The full size of the snapshot's data.
    public var totalBytes: Int
    /// The bytes of this chunk.
    public var data: [UInt8]

    /// Whether this chunk completes the snapshot.
    public var isLast: Bool { offset + data.count == totalBytes }

    public init(metadata: SnapshotMetadata, offset: Int, totalBytes: Int, data: [UInt8]) {
        self.metadata = metadata
        self.offset = offset
        self.totalBytes = totalBytes
        self.data = data
    }
}

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

extension Entry {
    /// Fixed per-entry overhead counted by the byte limits (term, index, kind).
    public static let headerBytes = 17
}
