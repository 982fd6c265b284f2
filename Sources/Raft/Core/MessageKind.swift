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
