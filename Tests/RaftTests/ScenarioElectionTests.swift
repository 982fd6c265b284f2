import Raft
import TestSupport
import Testing

/// Elections and leadership, each scenario set up, acted and checked as in the Raft paper.
@Suite struct ScenarioElectionTests {
    @Test func staleTermLeaderLearnsTheNewTermAndStepsDown() throws {
        // Set up: member 1 leads term t, then, cut off, misses the election of member 2 in term t + 1.
        let cluster = ScriptedCluster(voters: [1, 2, 3]) { $0.checkQuorum = false }
        cluster.elect(1)
        let oldTerm = cluster[1].term
        cluster.isolate(1)
        cluster.elect(2)
        #expect(cluster[2].role == .leader && cluster[2].term == oldTerm + 1)
        let lastIndexBefore = cluster[2].lastIndex

        // Act: reconnected, the stale leader still believes it leads and replicates a proposal of term t.
        cluster.heal()
        #expect(cluster[1].role == .leader)
        try cluster[1].propose([0xAA])
        cluster.stabilize()

        // Check: the others refused the stale append, and the answer carrying term t + 1 deposed member 1.
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == oldTerm + 1)
        #expect(cluster[2].lastIndex == lastIndexBefore && cluster[3].lastIndex == lastIndexBefore)
    }

    @Test func partitionedLeaderRejoinsAndDiscardsItsUncommittedEntries() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3]) { $0.checkQuorum = false }
        cluster.elect(1)
        cluster.isolate(1)
        try cluster[1].propose([1])
        try cluster[1].propose([2])
        cluster.stabilize()
        cluster.elect(2)
        cluster.tickAll(1)
        try cluster[2].propose([3])
        cluster.stabilize()

        cluster.heal()
        cluster.tickAll(3)

        #expect(cluster.leaders == [2])
        #expect(cluster[1].leader == 2)
        for member: NodeID in [1, 2, 3] { #expect(cluster.applied[member] == [[3]]) }
        #expect(cluster[1].lastIndex == cluster[2].lastIndex)
        #expect(cluster[1].logTerm(at: cluster[1].lastIndex) == cluster[2].term)
    }

    @Test func preVoteKeepsAPartitionedMemberFromDisruptingTheCluster() {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let term = cluster[1].term

        cluster.isolate(3)
        cluster.tick(3, 100)
        #expect(cluster[3].term == term, "a pre-candidate never raises its term without a pre-vote quorum")
        cluster.heal()
        cluster.tickAll(5)

        #expect(cluster.leaders == [1])
        #expect(cluster[1].term == term)
        #expect(cluster[3].leader == 1)
    }

    @Test func checkQuorumMakesAnIsolatedLeaderStepDown() {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let configuration = RaftConfiguration(id: 1)

        // The first quorum check after the election still counts the votes; the next one sees silence.
        cluster.isolate(1)
        cluster.tick(1, 2 * configuration.electionTimeoutTicks)

        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == nil)
    }

    @Test func proposalOnAFollowerIsAnsweredWithTheLeaderID() {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        #expect(throws: RaftError.notLeader(leader: nil)) { try cluster[2].propose([1]) }

        cluster.elect(1)

        #expect(throws: RaftError.notLeader(leader: 1)) { try cluster[2].propose([1]) }
        #expect(throws: RaftError.notLeader(leader: 1)) { try cluster[3].proposeConfigurationChange(.addLearner(9)) }
    }

    @Test func leadershipTransferCatchesUpTheTargetThenHandsOver() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(2)
        try cluster[1].propose([1])
        try cluster[1].propose([2])
        cluster.stabilize()
        cluster.heal()

        try cluster[1].transferLeadership(to: 2)
        #expect(throws: RaftError.leadershipTransferInProgress) { try cluster[1].propose([3]) }
        cluster.stabilize()

        #expect(cluster.leaders == [2])
        #expect(cluster[2].term == term + 1)
        #expect(cluster[1].leader == 2)
        #expect(cluster.applied[2] == [[1], [2]])
    }

    @Test func leadershipTransferToANonVoterIsRefused() {
        let cluster = ScriptedCluster(voters: [1, 2, 3], spares: [4])
        cluster.elect(1)

        #expect(throws: RaftError.invalidTransferTarget(4)) { try cluster[1].transferLeadership(to: 4) }
        #expect(throws: RaftError.invalidTransferTarget(1)) { try cluster[1].transferLeadership(to: 1) }
    }

    @Test func voteSurvivesARestartSoNoMemberVotesTwiceInATerm() {
        let cluster = ScriptedCluster(voters: [1, 2, 3]) { $0.preVote = false }
        cluster.elect(1)
        let term = cluster[1].term
        #expect(cluster[2].vote == 1)

        // Member 2 restarts from its storage, then member 3 asks for its vote in the same term.
        cluster.start(2)
        cluster[2].step(Message(kind: .vote, from: 3, to: 2, term: term, logTerm: term, index: 100))
        cluster.processReadies()

        #expect(cluster[2].vote == 1 && cluster[2].term == term)
        let answer = cluster.mailbox.last { $0.kind == .voteResponse && $0.from == 2 }
        #expect(answer?.reject == true)
    }
}
