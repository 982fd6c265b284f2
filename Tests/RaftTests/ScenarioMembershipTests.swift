import Raft
import TestSupport
import Testing

/// Membership changes, each scenario set up, acted and checked as in the Raft paper.
@Suite struct ScenarioMembershipTests {
    @Test func learnerReceivesTheLogWithoutCountingThenIsPromoted() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3], spares: [4])
        cluster.elect(1)
        try cluster[1].propose([1])
        cluster.stabilize()

        try cluster[1].proposeConfigurationChange(.addLearner(4))
        cluster.stabilize()
        #expect(cluster[4].configurationState == ConfigurationState(voters: [1, 2, 3], learners: [4]))
        #expect(cluster.applied[4] == [[1]])

        // A learner never campaigns and never counts towards a quorum.
        let term = cluster[4].term
        cluster.tick(4, 100)
        #expect(cluster[4].role == .follower && cluster[4].term == term)
        cluster.stop(2)
        cluster.stop(3)
        let commit = cluster[1].commitIndex
        try cluster[1].propose([2])
        cluster.stabilize()
        #expect(cluster[4].lastIndex == cluster[1].lastIndex)
        #expect(cluster[1].commitIndex == commit)
        cluster.start(2)
        cluster.tickAll(2)
        #expect(cluster[1].commitIndex > commit)

        try cluster[1].proposeConfigurationChange(.promoteLearner(4))
        cluster.stabilize()
        #expect(cluster[1].configurationState == ConfigurationState(voters: [1, 2, 3, 4]))
        try cluster[1].transferLeadership(to: 4)
        cluster.stabilize()
        #expect(cluster.leaders == [4])
    }

    @Test func removedLeaderStepsDownOnceTheChangeCommits() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)

        try cluster[1].proposeConfigurationChange(.removeMember(1))
        cluster.stabilize()

        #expect(cluster[1].role == .follower)
        for member: NodeID in [2, 3] {
            #expect(cluster[member].configurationState == ConfigurationState(voters: [2, 3]))
        }
        cluster.tickAll(40)
        #expect(cluster.leaders.count == 1)
        #expect(cluster.leaders.allSatisfy { $0 != 1 })
    }

    @Test func secondChangeIsRefusedWhileOneIsUncommitted() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3], spares: [4, 5])
        cluster.elect(1)
        cluster.isolate(1)

        try cluster[1].proposeConfigurationChange(.addLearner(4))

        #expect(throws: RaftError.configurationChangePending) {
            try cluster[1].proposeConfigurationChange(.addLearner(5))
        }
        #expect(throws: RaftError.memberAlreadyPresent(2)) { try cluster[1].proposeConfigurationChange(.addVoter(2)) }
    }
}
