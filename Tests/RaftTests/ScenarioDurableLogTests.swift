import DurableIO
import Raft
import Testing
import TestSupport

/// Scenarios of the consensus core running on the durable log over a simulated disk: a restart after a torn
/// log tail, and a failed fsync. Each member has a disk of its own; a member whose disk fails stops (as the
/// process would) until it is restarted from what its disk kept.
@Suite struct ScenarioDurableLogTests {
    final class Member {
        let id: NodeID
        let disk: SimulatedFileSystem
        var log: DurableLog
        var node: RaftNode
        var isRunning = true

        init(id: NodeID, voters: Set<NodeID>) throws {
            self.id = id
            disk = SimulatedFileSystem(seed: id)
            log = try DurableLog.open(directory: "/data", fileSystem: disk)
            try log.bootstrap(configuration: ConfigurationState(voters: voters))
            node = try RaftNode(configuration: RaftConfiguration(id: id), storage: log, random: SplitMix64(seed: id))
        }

        /// Power loss and restart: only what the disk made durable remains.
        func restart(tearUnsyncedWrites: Bool) throws {
            disk.faultPolicy = { _ in nil }
            disk.crash(tearUnsyncedWrites: tearUnsyncedWrites)
            log = try DurableLog.open(directory: "/data", fileSystem: disk)
            node = try RaftNode(configuration: RaftConfiguration(id: id), storage: log,
                                random: SplitMix64(seed: id &+ 100))
            isRunning = true
        }
    }

    final class Cluster {
        let members: [Member]
        var inboxes: [NodeID: [Message]] = [:]

        init() throws {
            members = try [1, 2, 3].map { try Member(id: $0, voters: [1, 2, 3]) }
        }

        subscript(id: NodeID) -> Member { members.first { $0.id == id }! }

        /// Runs ready batches and deliveries until nothing moves (bounded).
        func settle(maxRounds: Int = 500) {
            for _ in 0..<maxRounds {
                var moved = false
                for member in members where member.isRunning && member.node.hasReady {
                    moved = true
                    let ready = member.node.ready()
                    do {
                        try member.log.persist(hardState: ready.hardState, entries: ready.entries,
                                               snapshot: ready.snapshot)
                    } catch {
                        member.isRunning = false  // the process stops on a disk failure; nothing is sent
                        continue
                    }
                    for message in ready.messages { inboxes[message.to, default: []].append(message) }
                    member.node.advance(ready)
                }
                for member in members {
                    let messages = inboxes.removeValue(forKey: member.id) ?? []
                    guard member.isRunning else { continue }
                    for message in messages {
                        moved = true
                        member.node.step(message)
                    }
                }
                if !moved { return }
            }
        }

        func tick(_ times: Int) {
            for _ in 0..<times {
                for member in members where member.isRunning { member.node.tick() }
                settle()
            }
        }

        func propose(_ count: Int, from leader: NodeID) throws {
            for value in 0..<count {
                _ = try self[leader].node.propose([UInt8(truncatingIfNeeded: value)])
                settle()
            }
        }

        func entries(of member: Member) -> [Entry] {
            (member.log.firstIndex...member.log.lastIndex).compactMap { member.node.logEntry(at: $0) }
        }
    }

    @Test func restartAfterATornLogTailTruncatesItAndCatchesUp() throws {
        let cluster = try Cluster()
        cluster[1].node.campaign()
        cluster.settle()
        try cluster.propose(5, from: 1)
        // Member 3's next write reaches the disk only in part, then the power fails.
        cluster[3].disk.faultPolicy = { $0.kind == .write ? .tornWriteThenCrash : nil }
        try cluster.propose(5, from: 1)
        #expect(!cluster[3].isRunning)
        let committedWhileDown = cluster[1].node.commitIndex
        #expect(committedWhileDown >= 11, "two of three members keep committing")
        try cluster[3].restart(tearUnsyncedWrites: true)
        #expect(cluster[3].log.lastIndex < committedWhileDown, "the torn tail was cut back")
        cluster.tick(30)
        try cluster.propose(2, from: 1)
        #expect(cluster[3].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster.entries(of: cluster[3]) == cluster.entries(of: cluster[1]))
        #expect(cluster[3].node.commitIndex == cluster[1].node.commitIndex)
    }

    @Test func failedFsyncIsNeverCountedAsAnAcknowledgement() throws {
        let cluster = try Cluster()
        cluster[1].node.campaign()
        cluster.settle()
        try cluster.propose(3, from: 1)
        let committedBefore = cluster[1].node.commitIndex
        for id: NodeID in [2, 3] { cluster[id].disk.faultPolicy = { $0.kind == .sync ? .fail : nil } }
        try cluster.propose(3, from: 1)
        #expect(!cluster[2].isRunning && !cluster[3].isRunning)
        #expect(cluster[1].node.commitIndex == committedBefore, "no quorum persisted the new entries")
        try cluster[2].restart(tearUnsyncedWrites: false)
        #expect(cluster[2].log.lastIndex <= committedBefore, "entries whose fsync failed did not survive")
        cluster.tick(30)
        #expect(cluster[1].node.commitIndex == cluster[1].log.lastIndex, "with member 2 back, everything commits")
        #expect(cluster.entries(of: cluster[2]) == cluster.entries(of: cluster[1]))
    }
}
