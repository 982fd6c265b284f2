import Raft
import TestSupport
import Testing

/// Linearizable reads through ReadIndex, each scenario set up, acted and checked.
@Suite struct ScenarioReadTests {
    @Test func readIndexIsConfirmedByAHeartbeatQuorum() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster[1].propose([1])
        cluster.stabilize()

        try cluster[1].readIndex(context: [7])
        cluster.processReadies()
        #expect(cluster.readStates[1, default: []].isEmpty, "no read point before a quorum confirms leadership")
        cluster.stabilize()

        #expect(cluster.readStates[1] == [ReadState(index: cluster[1].commitIndex, context: [7])])
    }

    @Test func isolatedLeaderCannotConfirmARead() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)

        try cluster[1].readIndex(context: [8])
        cluster.stabilize()

        #expect(cluster.readStates[1, default: []].isEmpty)
    }

    @Test func followerReadIsForwardedToTheLeader() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster[1].propose([1])
        cluster.stabilize()

        try cluster[2].readIndex(context: [9])
        cluster.stabilize()

        #expect(cluster.readStates[2] == [ReadState(index: cluster[1].commitIndex, context: [9])])
    }

    @Test func readIsConfirmedByALaterHeartbeatWhenTheFirstRoundIsLost() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)

        try cluster[1].readIndex(context: [5])
        cluster.drop { $0.kind == .heartbeat }
        cluster.stabilize()
        #expect(cluster.readStates[1, default: []].isEmpty)
        cluster.tick(1, 1)

        #expect(cluster.readStates[1] == [ReadState(index: cluster[1].commitIndex, context: [5])])
    }

    @Test func leaseReadIsAnsweredAtOnceWhileAQuorumIsRecentlyActive() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster[1].propose([1])
        cluster.stabilize()

        try cluster[1].readIndex(context: [3], leaseBased: true)
        cluster.drop { $0.kind == .heartbeat }
        cluster.processReadies()

        #expect(cluster.readStates[1] == [ReadState(index: cluster[1].commitIndex, context: [3])],
                "no heartbeat round is needed under the lease")
    }

    @Test func leaseReadFallsBackToAHeartbeatRoundWhenTheLeaseLapsed() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)
        // A check-quorum round with no answers clears the marks; the leader steps down a round later.
        cluster.tick(1, 10)

        try cluster[1].readIndex(context: [4], leaseBased: true)
        cluster.stabilize()

        #expect(cluster.readStates[1, default: []].isEmpty, "an isolated leader never answers from a lapsed lease")
    }
}
