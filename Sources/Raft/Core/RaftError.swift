/// Why the core refused a request from its driver; nothing was changed.
public enum RaftError: Error, Hashable, Sendable, CustomStringConvertible {
    /// This member is not the leader. `leader` is the member believed to lead, when known: send the request
    /// there; when `nil`, retry after an election timeout.
    case notLeader(leader: NodeID?)
    /// This member just became leader and has not yet applied an entry of its own term, so it cannot yet
    /// answer reads or accept proposals safely. Retry after the next ready batch is applied.
    case notReadyToServe
    /// A leadership transfer is under way; proposals are refused until it completes or times out (one
    /// election timeout). Retry, at the new leader if it changed.
    case leadershipTransferInProgress
    /// A membership change is appended but not yet committed; only one change may be pending at a time.
    /// Retry once it has committed.
    case configurationChangePending
    /// The change names a member already in that role.
    case memberAlreadyPresent(NodeID)
    /// The change names a member that is not in the configuration (or, for a promotion, not a learner).
    case memberNotFound(NodeID)
    /// The change would leave the cluster without voters.
    case wouldRemoveLastVoter
    /// Leadership can only be transferred to a voter other than the current leader.
    case invalidTransferTarget(NodeID)
    /// The payload exceeds ``RaftConfiguration/maxProposalBytes``; split it.
    case proposalTooLarge(bytes: Int, limit: Int)
    /// The leader holds ``RaftConfiguration/maxUncommittedEntries`` uncommitted entries; back off and retry.
    case tooManyUncommittedEntries(limit: Int)
    /// ``RaftConfiguration/maxPendingReadRequests`` reads await confirmation; back off and retry.
    case tooManyPendingReads(limit: Int)

    public var description: String {
        switch self {
        case .notLeader(let leader?): return "not the Raft leader; the leader is member \(leader): retry there"
        case .notLeader(nil): return "not the Raft leader and no leader is known; retry after an election"
        case .notReadyToServe: return "new Raft leader has not applied an entry of its term yet; retry shortly"
        case .leadershipTransferInProgress: return "Raft leadership transfer in progress; retry shortly"
        case .configurationChangePending:
            return "a membership change is still uncommitted; retry once it has committed"
        case .memberAlreadyPresent(let id): return "member \(id) already has that role; nothing to change"
        case .memberNotFound(let id): return "member \(id) is not in the configuration in the required role"
        case .wouldRemoveLastVoter: return "the change would leave no voters; add another voter first"
        case .invalidTransferTarget(let id):
            return "cannot transfer leadership to \(id): choose a voter other than the leader"
        case .proposalTooLarge(let bytes, let limit):
            return "proposal of \(bytes) bytes exceeds the limit of \(limit) bytes; split it"
        case .tooManyUncommittedEntries(let limit):
            return "leader holds \(limit) uncommitted entries; back off and retry"
        case .tooManyPendingReads(let limit): return "\(limit) reads await confirmation; back off and retry"
        }
    }
}
