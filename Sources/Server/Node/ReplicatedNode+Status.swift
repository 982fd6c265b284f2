import Raft

extension ReplicatedNode {
    /// A single-member cluster does not wait for an election timeout to elect itself.
    public func campaignIfSoleVoter() {
        let configuration = core.configurationState
        if configuration.voters == [identity.id] && core.role != .leader { campaign() }
    }

    /// The node's view of Raft: role, term, leader and indexes.
    public struct RaftStatus: Sendable, Hashable {
        public var role: RaftRole
        public var term: UInt64
        public var leader: NodeID?
        public var commitIndex: UInt64
        public var appliedIndex: UInt64
        public var configuration: ConfigurationState
        public var halted: String?
    }

    public func raftStatus() -> RaftStatus {
        RaftStatus(role: core.role, term: core.term, leader: core.leader, commitIndex: core.commitIndex,
                   appliedIndex: core.appliedIndex, configuration: core.configurationState,
                   halted: halt)
    }

    /// Publishes the Raft gauges.
    func updateGauges() {
        guard let metrics else { return }
        let roles: [RaftRole: Double] = [.follower: 0, .preCandidate: 1, .candidate: 2, .leader: 3]
        metrics.gauge("elastickv_raft_role", help: "0 follower, 1 pre-candidate, 2 candidate, 3 leader")
            .set(roles[core.role] ?? 0)
        metrics.gauge("elastickv_raft_term", help: "Current Raft term").set(Double(core.term))
        metrics.gauge("elastickv_raft_commit_index", help: "Raft commit index").set(Double(core.commitIndex))
        metrics.gauge("elastickv_raft_applied_index", help: "Raft applied index").set(Double(core.appliedIndex))
        let leaderHelp = "1 for the member currently known as leader (label: its Raft member id)"
        let leader = core.leader.map { String($0) } ?? "none"
        if leader != publishedLeader {
            if let previous = publishedLeader {
                metrics.gauge("elastickv_raft_leader", help: leaderHelp, labels: ["id": previous]).set(0)
            }
            publishedLeader = leader
        }
        metrics.gauge("elastickv_raft_leader", help: leaderHelp, labels: ["id": leader]).set(1)
        metrics.gauge("elastickv_raft_is_leader", help: "1 when this member leads").set(core.role == .leader ? 1 : 0)
    }
}
