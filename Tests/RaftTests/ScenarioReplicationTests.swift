import Raft
import TestSupport
import Testing

/// Replication, commitment and catch-up, each scenario set up, acted and checked as in the Raft paper.
@Suite struct ScenarioReplicationTests {
    /// Figure 8 of the paper: an entry of an earlier term that is on a majority is still not committed until an
    /// entry of the leader's own term is.
    @Test func leaderCommitsOnlyEntriesOfItsCurrentTermByCounting() {
        // Set up: S1 and S2 hold (2, term 2) from S1's old leadership; S5 holds (2, term 3) from its own.
        let voters: [NodeID] = [1, 2, 3, 4, 5]
        let configuration = ConfigurationState(voters: Set(voters))
        var storages: [NodeID: MemoryRaftStorage] = [:]
        let logs: [NodeID: [UInt64]] = [1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]]
        let terms: [NodeID: UInt64] = [1: 2, 2: 2, 3: 2, 4: 3, 5: 3]
        for member in voters {
            let storage = MemoryRaftStorage(configuration: configuration)
            storage.append(logs[member]!.enumerated().map { Entry(term: $0.element, index: UInt64($0.offset + 1)) })
            storage.setHardState(HardState(term: terms[member]!, vote: 0, commit: 1))
            storages[member] = storage
        }
        let cluster = ScriptedCluster(voters: voters, configure: { $0.maxEntriesPerAppend = 1 }, storages: storages)
        cluster.cut(1, 4)
        cluster.cut(1, 5)

        // Act: S1 wins term 3 with S2 and S3 and replicates (2, term 2) to S3, but its own entry 3 only to S2.
        cluster[1].campaign()
        for _ in 0..<20 {
            cluster.drop { message in
                message.kind == .append && message.to == 3 && message.entries.contains { $0.index == 3 }
                    && cluster[3].lastIndex >= 2
            }
            cluster.deliver()
        }

        // Check: (2, term 2) is on S1, S2 and S3 — a majority — yet not committed.
        #expect(cluster[1].role == .leader && cluster[1].term == 3)
        for member: NodeID in [1, 2, 3] { #expect(cluster[member].logTerm(at: 2) == 2) }
        #expect(cluster[3].lastIndex == 2)
        #expect(cluster[1].commitIndex == 1)

        // Once S3 also holds the leader's entry of term 3, both commit together.
        cluster.tickAll(1)
        #expect(cluster[1].commitIndex == 3)
    }

    @Test func laggingFollowerCatchesUpThroughAChunkedSnapshot() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3]) { $0.maxSnapshotChunkBytes = 8 }
        cluster.elect(1)
        cluster.isolate(3)
        for value in UInt8(1)...10 { try cluster[1].propose([value, value, value]) }
        cluster.stabilize()
        cluster.compact(1)
        #expect(cluster[1].firstIndex > cluster[3].lastIndex + 1, "the entries member 3 needs are gone")

        cluster.heal()
        cluster.tickAll(5)

        let chunks = cluster.sentLog.filter { $0.kind == .snapshotChunk && $0.to == 3 }
        #expect(chunks.count >= 2, "a snapshot larger than the chunk limit travels in several chunks")
        #expect(chunks.allSatisfy { ($0.snapshotChunk?.data.count ?? 0) <= 8 })
        #expect(cluster.applied[3] == cluster.applied[1])
        #expect(cluster[3].lastIndex == cluster[1].lastIndex)
        try cluster[1].propose([11])
        cluster.stabilize()
        #expect(cluster.applied[3]?.last == [11])
    }

    @Test func pipelinedReplicationRespectsTheInflightLimit() throws {
        let cluster = ScriptedCluster(voters: [1, 2]) {
            $0.maxInflightMessages = 2
            $0.maxEntriesPerAppend = 1
        }
        cluster.elect(1)
        cluster.isolate(2)

        for value in UInt8(1)...6 { try cluster[1].propose([value]) }
        cluster.processReadies()

        let appends = cluster.mailbox.filter { $0.kind == .append && $0.to == 2 && !$0.entries.isEmpty }
        #expect(appends.count == 2)
        cluster.heal()
        cluster.tickAll(3)
        #expect(cluster.applied[2]?.count == 6)
    }

    @Test func followerRestoredFromAnOlderCopyIsRepairedFromWhatItStillHas() throws {
        let cluster = ScriptedCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster[1].propose([1])
        cluster.stabilize()
        let older = cluster.storages[3]!.copy()
        for payload in 2...5 { try cluster[1].propose([UInt8(payload)]) }
        cluster.stabilize()

        cluster.stop(3)
        cluster.replaceStorage(3, with: older)
        cluster.start(3)
        try cluster[1].propose([6])
        cluster.stabilize()

        #expect(cluster[3].lastIndex == cluster[1].lastIndex, "the leader re-sends what the follower lost")
        #expect(cluster.applied[3] == cluster.applied[1])
    }
}
