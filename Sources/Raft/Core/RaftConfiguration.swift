/// The tunables of one ``RaftNode``: timing in ticks and every flow-control limit, each named.
///
/// The defaults suit a tick of about 100 ms: heartbeats every tick, elections after 10 to 20 ticks.
public struct RaftConfiguration: Sendable, Hashable {
    /// This member's identity; never 0.
    public var id: NodeID
    /// Ticks a follower waits without hearing from a leader before it campaigns. The actual timeout is
    /// drawn, per election, from `electionTimeoutTicks ..< 2 * electionTimeoutTicks` with the injected
    /// random source, so members rarely time out together.
    public var electionTimeoutTicks: Int
    /// Ticks between heartbeats sent by a leader; must be smaller than `electionTimeoutTicks`.
    public var heartbeatTimeoutTicks: Int
    /// Run a pre-vote round before a real election, so a member that was partitioned away does not raise
    /// the term of a healthy cluster when it comes back.
    public var preVote: Bool
    /// A leader steps down when it has not heard from a quorum within an election timeout, and members that
    /// heard from a leader within an election timeout ignore vote requests (the leader lease).
    public var checkQuorum: Bool
    /// Append messages in flight to one follower before the leader waits for acknowledgements.
    public var maxInflightMessages: Int
    /// Entry bytes in flight to one follower before the leader waits for acknowledgements.
    public var maxInflightBytes: Int
    /// Entries in one append message.
    public var maxEntriesPerAppend: Int
    /// Entry bytes in one append message (at least one entry is always sent).
    public var maxBytesPerAppend: Int
    /// Bytes of snapshot data in one snapshot chunk message.
    public var maxSnapshotChunkBytes: Int
    /// Heartbeat answers from a follower receiving a snapshot, without a chunk acknowledgement, before the
    /// leader assumes the chunk was lost and sends it again.
    public var snapshotChunkRetryHeartbeats: Int
    /// Bytes of one proposal's payload.
    public var maxProposalBytes: Int
    /// Entries appended by this leader but not yet committed before proposals are refused.
    public var maxUncommittedEntries: Int
    /// Committed entry bytes handed out in one ``Ready`` (at least one entry is always handed out).
    public var maxCommittedBytesPerReady: Int
    /// Read-index requests waiting for a heartbeat quorum before new ones are refused.
    public var maxPendingReadRequests: Int

    /// Creates a configuration with the defaults described on each field.
    public init(
        id: NodeID,
        electionTimeoutTicks: Int = 10,
        heartbeatTimeoutTicks: Int = 1,
        preVote: Bool = true,
        checkQuorum: Bool = true,
        maxInflightMessages: Int = 64,
        maxInflightBytes: Int = 4 << 20,
        maxEntriesPerAppend: Int = 256,
        maxBytesPerAppend: Int = 1 << 20,
        maxSnapshotChunkBytes: Int = 1 << 20,
        snapshotChunkRetryHeartbeats: Int = 3,
        maxProposalBytes: Int = 4 << 20,
        maxUncommittedEntries: Int = 4096,
        maxCommittedBytesPerReady: Int = 8 << 20,
        maxPendingReadRequests: Int = 4096
    ) {
        self.id = id
        self.electionTimeoutTicks = electionTimeoutTicks
        self.heartbeatTimeoutTicks = heartbeatTimeoutTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxInflightMessages = maxInflightMessages
        self.maxInflightBytes = maxInflightBytes
        self.maxEntriesPerAppend = maxEntriesPerAppend
        self.maxBytesPerAppend = maxBytesPerAppend
        self.maxSnapshotChunkBytes = maxSnapshotChunkBytes
        self.snapshotChunkRetryHeartbeats = snapshotChunkRetryHeartbeats
        self.maxProposalBytes = maxProposalBytes
        self.maxUncommittedEntries = maxUncommittedEntries
        self.maxCommittedBytesPerReady = maxCommittedBytesPerReady
        self.maxPendingReadRequests = maxPendingReadRequests
    }

    /// Traps when a limit is unusable; a node with such a configuration could not make progress.
    func validate() {
        precondition(id != 0, "Raft member id 0 is reserved for 'no node'; give the member a non-zero id.")
        precondition(heartbeatTimeoutTicks > 0, "heartbeatTimeoutTicks must be positive.")
        precondition(
            electionTimeoutTicks > heartbeatTimeoutTicks,
            "electionTimeoutTicks must exceed heartbeatTimeoutTicks, or followers time out between heartbeats.")
        precondition(maxInflightMessages > 0 && maxInflightBytes > 0, "In-flight limits must be positive.")
        precondition(maxEntriesPerAppend > 0 && maxBytesPerAppend > 0, "Append size limits must be positive.")
        precondition(maxSnapshotChunkBytes > 0, "maxSnapshotChunkBytes must be positive.")
        precondition(snapshotChunkRetryHeartbeats > 0, "snapshotChunkRetryHeartbeats must be positive.")
        precondition(maxProposalBytes > 0 && maxUncommittedEntries > 0, "Proposal limits must be positive.")
        precondition(maxCommittedBytesPerReady > 0 && maxPendingReadRequests > 0, "Ready limits must be positive.")
    }
}
