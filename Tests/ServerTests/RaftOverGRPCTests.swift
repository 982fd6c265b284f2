import Raft
import TestSupport
import Testing

@testable import Server

/// Real ``RaftNode``s talking through ``GRPCRaftTransport`` on 127.0.0.1: the codec, the transport and the
/// core together.
@Suite(.timeLimit(.minutes(2))) struct RaftOverGRPCTests {
    static let seed: UInt64 = 0x6772_7063_7261_6674

    /// One member's core, its storage and what it applied.
    final class Driver {
        let node: RaftNode
        let storage: MemoryRaftStorage
        let member: TransportMember
        var applied: [[UInt8]] = []

        init(member: TransportMember, voters: Set<NodeID>, seed: UInt64) throws {
            self.member = member
            storage = MemoryRaftStorage(configuration: ConfigurationState(voters: voters))
            node = try RaftNode(
                configuration: RaftConfiguration(id: member.id), storage: storage, random: SplitMix64(seed: seed))
        }

        /// Steps what arrived, ticks once, then persists, sends, applies and advances every `Ready`.
        func turn() {
            for message in member.inbox.take() { node.step(message) }
            node.tick()
            while node.hasReady {
                let ready = node.ready()
                if let hardState = ready.hardState { storage.setHardState(hardState) }
                if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
                storage.append(ready.entries)
                member.transport.send(ready.messages)
                for entry in ready.committedEntries where entry.kind == .normal && !entry.data.isEmpty {
                    applied.append(entry.data)
                }
                node.advance(ready)
            }
        }
    }

    @Test func threeMembersElectALeaderAndReplicateAProposal() async throws {
        print("RaftOverGRPCTests seed \(Self.seed)")
        try await withMembers(3) { members in
            let drivers = try members.map { member in
                try Driver(member: member, voters: [1, 2, 3], seed: Self.seed &+ member.id)
            }
            var proposed = false
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                for driver in drivers { driver.turn() }
                if !proposed, let leader = drivers.first(where: { $0.node.isReadyToServe }) {
                    _ = try leader.node.propose([42, 43])
                    proposed = true
                }
                if drivers.allSatisfy({ $0.applied == [[42, 43]] }) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(proposed, "no leader was elected")
            for driver in drivers { #expect(driver.applied == [[42, 43]], "member \(driver.member.id)") }
            let leaders = drivers.filter { $0.node.role == .leader }.map(\.member.id)
            #expect(leaders.count == 1)
            #expect(Set(drivers.compactMap(\.node.leader)) == Set(leaders))
        }
    }
}
