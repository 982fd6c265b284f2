import Raft
import TestSupport
import Testing

/// Unit tests of the core's log replication rules, driving one ``RaftNode`` with hand-written messages.
@Suite struct CoreReplicationTests {
    @Test func followerRejectsAnAppendThatDoesNotMatchAndHintsWhereToRetry() throws {
        let storage = MemoryRaftStorage(configuration: ConfigurationState(voters: [1, 2]))
        storage.append([Entry(term: 1, index: 1), Entry(term: 1, index: 2)])
        let node = try RaftNode(configuration: RaftConfiguration(id: 2), storage: storage, random: SplitMix64(seed: 1))

        node.step(
            Message(kind: .append, from: 1, to: 2, term: 3, logTerm: 3, index: 6, entries: [Entry(term: 3, index: 7)]))

        let response = CoreElectionTests.drain(node, storage).messages.first
        #expect(response?.reject == true)
        #expect(response?.rejectHint == 2)
        #expect(response?.rejectHintTerm == 1)
    }

    @Test func followerReplacesAConflictingSuffix() throws {
        let storage = MemoryRaftStorage(configuration: ConfigurationState(voters: [1, 2]))
        storage.append([Entry(term: 1, index: 1), Entry(term: 2, index: 2), Entry(term: 2, index: 3)])
        let node = try RaftNode(configuration: RaftConfiguration(id: 2), storage: storage, random: SplitMix64(seed: 1))

        let replacement = [Entry(term: 3, index: 2, data: [9])]
        node.step(
            Message(kind: .append, from: 1, to: 2, term: 3, logTerm: 1, index: 1, entries: replacement, commit: 2))

        let ready = CoreElectionTests.drain(node, storage)
        #expect(ready.entries == replacement)
        #expect(storage.lastIndex == 2)
        #expect(try storage.term(at: 2) == 3)
        #expect(ready.committedEntries == [Entry(term: 1, index: 1)] + replacement)
        #expect(ready.messages.first?.index == 2)
    }

    @Test func appendsAreLimitedByEntryCountAndBytes() throws {
        let (leader, storage) = try CoreElectionTests.makeNode(1, voters: [1, 2]) {
            $0.maxEntriesPerAppend = 2
            $0.maxBytesPerAppend = 1_000
        }
        leader.campaign()
        leader.step(Message(kind: .preVoteResponse, from: 2, to: 1, term: 1))
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        #expect(leader.role == .leader)
        CoreElectionTests.drain(leader, storage)
        leader.step(Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 1))
        CoreElectionTests.drain(leader, storage)
        CoreElectionTests.drain(leader, storage)
        #expect(leader.isReadyToServe)

        for _ in 0..<5 { try leader.propose(Array(repeating: 7, count: 400)) }
        let appends = CoreElectionTests.drain(leader, storage).messages.filter { $0.kind == .append }

        #expect(!appends.isEmpty)
        for append in appends {
            #expect(append.entries.count <= 2)
            #expect(append.entries.count == 1 || append.payloadBytes <= 1_000)
        }
    }

    @Test func oversizedProposalIsRefused() throws {
        let (node, storage) = try CoreElectionTests.makeNode(1, voters: [1]) { $0.maxProposalBytes = 8 }
        node.campaign()
        CoreElectionTests.drain(node, storage)
        CoreElectionTests.drain(node, storage)

        #expect(throws: RaftError.proposalTooLarge(bytes: 9, limit: 8)) {
            try node.propose(Array(repeating: 0, count: 9))
        }
        #expect(try node.propose(Array(repeating: 0, count: 8)) == 2)
    }

    @Test func uncommittedEntriesAreCapped() throws {
        let (node, storage) = try CoreElectionTests.makeNode(1, voters: [1, 2]) { $0.maxUncommittedEntries = 3 }
        node.campaign()
        node.step(Message(kind: .preVoteResponse, from: 2, to: 1, term: 1))
        node.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        CoreElectionTests.drain(node, storage)
        node.step(Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 1))
        CoreElectionTests.drain(node, storage)

        for value in UInt8(0)..<3 { try node.propose([value]) }
        #expect(throws: RaftError.tooManyUncommittedEntries(limit: 3)) { try node.propose([3]) }
    }
}
