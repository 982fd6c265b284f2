extension ConfigurationState {
    /// The configuration after `change`. Applying a change twice gives the same result as once.
    public func applying(_ change: ConfigurationChange) -> ConfigurationState {
        var next = self
        switch change {
        case .addVoter(let id), .promoteLearner(let id):
            next.learners.remove(id)
            next.voters.insert(id)
        case .addLearner(let id):
            if !next.voters.contains(id) { next.learners.insert(id) }
        case .removeMember(let id):
            next.voters.remove(id)
            next.learners.remove(id)
        }
        return next
    }

    /// Every member, voters and learners.
    public var members: Set<NodeID> { voters.union(learners) }

    /// The number of voters that forms a majority.
    var quorum: Int { voters.count / 2 + 1 }
}
