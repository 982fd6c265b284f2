/// One membership change, carried in an entry of kind ``EntryKind/configurationChange``.
///
/// Changes are applied one at a time (single-server changes, Raft thesis §4.1): each takes effect on a member
/// as soon as the entry is in its log, whether or not it is committed, and a leader refuses a second change
/// while one is uncommitted. Any two consecutive configurations then share a majority.
public enum ConfigurationChange: Sendable, Hashable {
    /// Adds a voting member (or turns a learner into a voter).
    case addVoter(NodeID)
    /// Adds a member that receives the log but never votes and never counts for quorum.
    case addLearner(NodeID)
    /// Turns a learner into a voter.
    case promoteLearner(NodeID)
    /// Removes a voter or a learner.
    case removeMember(NodeID)

    /// The member the change is about.
    public var member: NodeID {
        switch self {
        case .addVoter(let id), .addLearner(let id), .promoteLearner(let id), .removeMember(let id): return id
        }
    }

    /// The operation byte of the entry encoding.
    var operationCode: UInt8 {
        switch self {
        case .addVoter: return 1
        case .addLearner: return 2
        case .promoteLearner: return 3
        case .removeMember: return 4
        }
    }

    /// Checks the change against `configuration`, the latest one in the leader's log.
    func validate(against configuration: ConfigurationState) throws(RaftError) {
        switch self {
        case .addVoter(let id):
            if configuration.voters.contains(id) { throw .memberAlreadyPresent(id) }
        case .addLearner(let id):
            if configuration.voters.contains(id) || configuration.learners.contains(id) {
                throw .memberAlreadyPresent(id)
            }
        case .promoteLearner(let id):
            if !configuration.learners.contains(id) { throw .memberNotFound(id) }
        case .removeMember(let id):
            if !configuration.voters.contains(id) && !configuration.learners.contains(id) { throw .memberNotFound(id) }
            if configuration.voters == [id] { throw .wouldRemoveLastVoter }
        }
    }
}
