import Raft
import TestSupport
import Testing

/// ``RaftNode/applyLimit``, ``RaftNode/advance(_:appliedThrough:)`` and
/// ``RaftNode/propose(_:requireReadyToServe:)``: a driver that cannot apply yet holds committed entries back
/// while persisting, voting and replication go on.
@Suite struct ApplyLimitTests {
    /// Ready batches a quiet core needs at most; more means hasReady stays true without progress.
    static let maxDrainRounds = 100

    /// Persists `ready` to `storage` (the driver's step 1) without advancing.
    static func persist(_ ready: Ready, _ storage: MemoryRaftStorage) {
        if let hardState = ready.hardState { storage.setHardState(hardState) }
        if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
        storage.append(ready.entries)
    }

    /// Drains ready batches until the core has nothing more to hand out; returns the committed entries seen.
    @discardableResult
    static func drainAll(_ node: RaftNode, _ storage: MemoryRaftStorage) -> [Entry] {
        var committed: [Entry] = []
        var rounds = 0
        while node.hasReady {
            rounds += 1
            guard rounds <= maxDrainRounds else {
                Issue.record("the core still has ready batches after \(maxDrainRounds) rounds")
                break
            }
            let ready = node.ready()
            persist(ready, storage)
            committed += ready.committedEntries
            node.advance(ready)
        }
        return committed
    }

    /// A single-member leader that applied its term-start entry (index 1), so it serves.
    static func servingLeader() throws -> (RaftNode, MemoryRaftStorage) {
        let (node, storage) = try CoreElectionTests.makeNode(1, voters: [1])
        node.campaign()
        drainAll(node, storage)
        #expect(node.isReadyToServe && node.appliedIndex == 1)
        return (node, storage)
    }

    /// Proposes one-byte entries `values` and persists them, so they commit; nothing is applied by the caller.
    static func proposeAndCommit(_ node: RaftNode, _ storage: MemoryRaftStorage, _ values: [UInt8]) throws {
        for value in values { try node.propose([value]) }
        let ready = node.ready()
        #expect(ready.committedEntries.isEmpty, "entries commit only once persisted")
        persist(ready, storage)
        node.advance(ready)
    }

    // MARK: - Holding entries back

    @Test func readyHandsOutNoCommittedEntryAboveTheLimit() throws {
        let (node, storage) = try Self.servingLeader()
        node.applyLimit = 2
        try Self.proposeAndCommit(node, storage, [20, 30, 40])
        #expect(node.commitIndex == 4)

        let ready = node.ready()
        #expect(ready.committedEntries.map(\.index) == [2])
        #expect(ready.committedEntries.map(\.data) == [[20]])
        Self.persist(ready, storage)
        node.advance(ready)
        #expect(node.appliedIndex == 2)
        #expect(node.ready().committedEntries.isEmpty)
    }

    @Test func hasReadyIsFalseWhenOnlyEntriesAboveTheLimitWait() throws {
        let (node, storage) = try Self.servingLeader()
        node.applyLimit = 1
        try Self.proposeAndCommit(node, storage, [2, 3])
        let handedOut = Self.drainAll(node, storage)

        #expect(handedOut.isEmpty)
        #expect(node.commitIndex == 3 && node.appliedIndex == 1)
        #expect(!node.hasReady)
        #expect(node.ready().isEmpty)
    }

    @Test func entriesAreHandedOutAgainOnceTheLimitIsRaised() throws {
        let (node, storage) = try Self.servingLeader()
        node.applyLimit = 1
        try Self.proposeAndCommit(node, storage, [2, 3, 4])
        Self.drainAll(node, storage)
        #expect(!node.hasReady)

        node.applyLimit = 3
        #expect(node.hasReady)
        #expect(Self.drainAll(node, storage).map(\.index) == [2, 3])
        #expect(node.appliedIndex == 3 && !node.hasReady)

        node.applyLimit = .max
        #expect(Self.drainAll(node, storage).map(\.index) == [4])
        #expect(node.appliedIndex == 4)
    }

    @Test func aLimitBelowTheAppliedIndexHandsOutNothingAndKeepsTheAppliedIndex() throws {
        let (node, storage) = try Self.servingLeader()
        try Self.proposeAndCommit(node, storage, [2])
        #expect(Self.drainAll(node, storage).map(\.index) == [2])
        node.applyLimit = 0
        try Self.proposeAndCommit(node, storage, [3])

        #expect(Self.drainAll(node, storage).isEmpty)
        #expect(node.appliedIndex == 2 && node.commitIndex == 3)
    }

    // MARK: - Partial apply

    @Test func advanceAppliedThroughRedeliversTheUnappliedTail() throws {
        let (node, storage) = try Self.servingLeader()
        try Self.proposeAndCommit(node, storage, [2, 3, 4])
        let ready = node.ready()
        #expect(ready.committedEntries.map(\.index) == [2, 3, 4])
        Self.persist(ready, storage)

        node.advance(ready, appliedThrough: 2)

        #expect(node.appliedIndex == 2)
        #expect(node.hasReady)
        let again = node.ready()
        #expect(again.committedEntries.map(\.index) == [3, 4])
        #expect(again.committedEntries.map(\.data) == [[3], [4]])
    }

    @Test func advanceAppliedThroughBeforeTheBatchAppliesNothing() throws {
        let (node, storage) = try Self.servingLeader()
        try Self.proposeAndCommit(node, storage, [2, 3])
        let ready = node.ready()
        Self.persist(ready, storage)

        node.advance(ready, appliedThrough: 0)

        #expect(node.appliedIndex == 1)
        #expect(node.ready().committedEntries.map(\.index) == [2, 3])
    }

    @Test func advanceAppliedThroughPastTheBatchStopsAtItsLastEntry() throws {
        let (node, storage) = try Self.servingLeader()
        node.applyLimit = 2
        try Self.proposeAndCommit(node, storage, [2, 3])
        let ready = node.ready()
        #expect(ready.committedEntries.map(\.index) == [2])

        node.advance(ready, appliedThrough: 3)

        #expect(node.appliedIndex == 2, "only entries handed out can be applied")
    }

    @Test func plainAdvanceAppliesTheWholeBatch() throws {
        let (node, storage) = try Self.servingLeader()
        try Self.proposeAndCommit(node, storage, [2, 3])
        let ready = node.ready()
        node.advance(ready)
        #expect(node.appliedIndex == 3)
        #expect(!node.hasReady)
    }

    // MARK: - Serving while apply waits

    @Test func leaderThatHasNotAppliedItsTermStartEntryRefusesProposals() throws {
        let (node, storage) = try CoreElectionTests.makeNode(1, voters: [1])
        node.applyLimit = 0
        node.campaign()
        Self.drainAll(node, storage)
        #expect(node.role == .leader)
        #expect(node.commitIndex == 1 && node.appliedIndex == 0)
        #expect(!node.isReadyToServe)

        #expect(throws: RaftError.notReadyToServe) { try node.propose([9]) }
        #expect(node.lastIndex == 1, "a refused proposal appends nothing")
    }

    @Test func leaderThatHasNotAppliedItsTermStartEntryAcceptsProposalsThatDoNotNeedIt() throws {
        let (node, storage) = try CoreElectionTests.makeNode(1, voters: [1])
        node.applyLimit = 0
        node.campaign()
        Self.drainAll(node, storage)

        #expect(try node.propose([9], requireReadyToServe: false) == 2)
        Self.drainAll(node, storage)
        #expect(node.commitIndex == 2 && node.appliedIndex == 0)
        #expect(node.logEntry(at: 2)?.data == [9])

        node.applyLimit = .max
        #expect(Self.drainAll(node, storage).map(\.index) == [1, 2])
        #expect(node.isReadyToServe)
        #expect(try node.propose([10]) == 3)
    }

    @Test func requireReadyToServeFalseStillRefusesOnAFollower() throws {
        let (node, _) = try CoreElectionTests.makeNode(2, voters: [1, 2])
        #expect(throws: RaftError.notLeader(leader: nil)) { try node.propose([1], requireReadyToServe: false) }
    }

    // MARK: - Commit goes on

    @Test func leaderCommitAdvancesWithQuorumAcknowledgementsWhileApplyIsLimited() throws {
        let (leader, storage) = try CoreElectionTests.makeNode(1, voters: [1, 2])
        leader.campaign()
        leader.step(Message(kind: .preVoteResponse, from: 2, to: 1, term: 1))
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        Self.drainAll(leader, storage)
        leader.step(Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 1))
        Self.drainAll(leader, storage)
        #expect(leader.isReadyToServe)
        leader.applyLimit = 1

        for value in UInt8(2)...4 { try leader.propose([value]) }
        let appends = Self.drainAllMessages(leader, storage).filter { $0.kind == .append && $0.to == 2 }
        #expect(appends.flatMap(\.entries).map(\.index) == [2, 3, 4])
        #expect(leader.commitIndex == 1, "one of two voters holds the entries")
        leader.step(Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 4))

        #expect(leader.commitIndex == 4)
        let ready = leader.ready()
        #expect(ready.hardState?.commit == 4)
        #expect(ready.committedEntries.isEmpty)
        Self.persist(ready, storage)
        leader.advance(ready)
        #expect(storage.initialStateCommit == 4)
        #expect(leader.appliedIndex == 1)
    }

    @Test func followerPersistsAcknowledgesAndCommitsWhileApplyIsLimited() throws {
        let (follower, storage) = try CoreElectionTests.makeNode(2, voters: [1, 2])
        follower.applyLimit = 0
        let entries = [
            Entry(term: 1, index: 1), Entry(term: 1, index: 2, data: [2]), Entry(term: 1, index: 3, data: [3]),
        ]

        follower.step(Message(kind: .append, from: 1, to: 2, term: 1, entries: entries, commit: 3))

        let ready = follower.ready()
        #expect(ready.entries == entries)
        #expect(ready.hardState?.commit == 3)
        #expect(ready.committedEntries.isEmpty)
        #expect(ready.messages.contains { $0.kind == .appendResponse && !$0.reject && $0.index == 3 })
        Self.persist(ready, storage)
        follower.advance(ready)
        #expect(follower.commitIndex == 3 && follower.appliedIndex == 0)
        #expect(!follower.hasReady)

        follower.applyLimit = 2
        #expect(Self.drainAll(follower, storage).map(\.index) == [1, 2])
    }

    /// Drains like ``drainAll(_:_:)`` and returns the messages handed out instead.
    static func drainAllMessages(_ node: RaftNode, _ storage: MemoryRaftStorage) -> [Message] {
        var messages: [Message] = []
        var rounds = 0
        while node.hasReady {
            rounds += 1
            guard rounds <= maxDrainRounds else {
                Issue.record("the core still has ready batches after \(maxDrainRounds) rounds")
                break
            }
            let ready = node.ready()
            persist(ready, storage)
            messages += ready.messages
            node.advance(ready)
        }
        return messages
    }
}

extension MemoryRaftStorage {
    /// The commit index of the persisted hard state.
    fileprivate var initialStateCommit: UInt64 { (try? initialState().0.commit) ?? 0 }
}
