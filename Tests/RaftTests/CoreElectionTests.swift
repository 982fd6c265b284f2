import Raft
import TestSupport
import Testing

/// Unit tests of the core's election rules, driving one ``RaftNode`` with hand-written messages.
@Suite struct CoreElectionTests {
    static func makeNode(
        _ id: NodeID, voters: Set<NodeID> = [1, 2, 3], seed: UInt64 = 7,
        configure: (inout RaftConfiguration) -> Void = { _ in }
    ) throws -> (RaftNode, MemoryRaftStorage) {
        let storage = MemoryRaftStorage(configuration: ConfigurationState(voters: voters))
        var configuration = RaftConfiguration(id: id)
        configure(&configuration)
        return (try RaftNode(configuration: configuration, storage: storage, random: SplitMix64(seed: seed)), storage)
    }

    /// Persists and advances one ready batch the way a driver must, returning it.
    @discardableResult
    static func drain(_ node: RaftNode, _ storage: MemoryRaftStorage) -> Ready {
        let ready = node.ready()
        if let hardState = ready.hardState { storage.setHardState(hardState) }
        if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
        storage.append(ready.entries)
        node.advance(ready)
        return ready
    }

    @Test func electionTimeoutIsRandomizedWithinOneToTwoTimeouts() throws {
        var firstCampaignTicks: Set<Int> = []
        for seed in UInt64(1)...40 {
            let (node, _) = try Self.makeNode(1, seed: seed)
            var ticks = 0
            while node.role == .follower {
                node.tick()
                ticks += 1
                #expect(ticks < 20, "a follower campaigns within two election timeouts")
                if ticks >= 20 { break }
            }
            #expect(ticks >= 10)
            firstCampaignTicks.insert(ticks)
        }
        #expect(firstCampaignTicks.count > 3, "different seeds give different timeouts")
    }

    @Test func preVoteDoesNotRaiseTheTerm() throws {
        let (node, storage) = try Self.makeNode(1)
        node.campaign()

        #expect(node.role == .preCandidate)
        #expect(node.term == 0)
        let messages = Self.drain(node, storage).messages
        #expect(messages.map(\.kind) == [.preVote, .preVote])
        #expect(messages.allSatisfy { $0.term == 1 })
    }

    @Test func voteIsPersistedBeforeItIsAnnounced() throws {
        let (node, storage) = try Self.makeNode(2)
        node.step(Message(kind: .vote, from: 1, to: 2, term: 1, logTerm: 0, index: 0))

        let ready = Self.drain(node, storage)
        #expect(ready.hardState == HardState(term: 1, vote: 1, commit: 0))
        #expect(ready.messages == [Message(kind: .voteResponse, from: 2, to: 1, term: 1)])
        #expect(storage.hardState.vote == 1)
    }

    @Test func onlyTermVoteEntriesOrSnapshotsRequireASync() throws {
        let (node, storage) = try Self.makeNode(2)
        node.step(Message(kind: .append, from: 1, to: 2, term: 1, entries: [Entry(term: 1, index: 1)]))
        #expect(Self.drain(node, storage).mustSync)

        node.step(Message(kind: .heartbeat, from: 1, to: 2, term: 1, commit: 1))
        let commitOnly = Self.drain(node, storage)
        #expect(commitOnly.hardState?.commit == 1)
        #expect(!commitOnly.mustSync)
    }

    @Test func voteIsRefusedToACandidateWithAnOlderLog() throws {
        let storage = MemoryRaftStorage(configuration: ConfigurationState(voters: [1, 2, 3]))
        storage.append([Entry(term: 1, index: 1), Entry(term: 2, index: 2)])
        storage.setHardState(HardState(term: 2, vote: 0, commit: 0))
        let node = try RaftNode(configuration: RaftConfiguration(id: 2), storage: storage, random: SplitMix64(seed: 1))

        node.step(Message(kind: .vote, from: 1, to: 2, term: 3, logTerm: 1, index: 5))

        let response = Self.drain(node, storage).messages.first
        #expect(response?.kind == .voteResponse && response?.reject == true)
        #expect(node.vote == 0)
    }

    @Test func oneVotePerTerm() throws {
        let (node, storage) = try Self.makeNode(3)
        node.step(Message(kind: .vote, from: 1, to: 3, term: 1))
        node.step(Message(kind: .vote, from: 2, to: 3, term: 1))

        let responses = Self.drain(node, storage).messages
        #expect(responses.map(\.reject) == [false, true])
    }

    @Test func singleVoterElectsItselfAndCommitsAfterPersisting() throws {
        let (node, storage) = try Self.makeNode(1, voters: [1])
        node.campaign()
        #expect(node.role == .leader)
        #expect(!node.isReadyToServe)
        #expect(throws: RaftError.notReadyToServe) { try node.propose([1]) }
        #expect(throws: RaftError.notReadyToServe) { try node.readIndex(context: [1]) }

        let first = Self.drain(node, storage)
        #expect(first.entries == [Entry(term: 1, index: 1)])
        #expect(first.committedEntries.isEmpty, "the leader counts its own entry only once persisted")
        let second = Self.drain(node, storage)
        #expect(second.committedEntries == [Entry(term: 1, index: 1)])
        #expect(node.isReadyToServe)
    }

    @Test func followerProposalNamesTheLeader() throws {
        let (node, _) = try Self.makeNode(2)
        node.step(Message(kind: .heartbeat, from: 3, to: 2, term: 4))

        #expect(node.leader == 3)
        #expect(throws: RaftError.notLeader(leader: 3)) { try node.propose([1]) }
    }
}
