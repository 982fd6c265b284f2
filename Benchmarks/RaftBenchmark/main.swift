// Committed proposals per second of a 3-voter Raft cluster in one process, with the log in memory and with
// the durable segmented log on this disk (one fsync per ready batch on each member, members persisting in
// parallel), at 1, 16 and 64 concurrent proposers (outstanding proposals). Group commit shows as entries
// per fsync growing with the number of proposers. Usage: raft-bench [seconds-per-run]
import Dispatch
import DurableIO
import Foundation
import Raft
import TestSupport

let secondsPerRun = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 2 : 2
let payload = [UInt8](repeating: 0xAB, count: 128)
let members: [NodeID] = [1, 2, 3]

/// A member's stable log: memory or the durable log.
enum Persistence {
    case memory(MemoryRaftStorage)
    case durable(DurableLog)

    var storage: any RaftStorage {
        switch self {
        case .memory(let storage): return storage
        case .durable(let log): return log
        }
    }

    /// Step 1 of the ready ordering; returns whether an fsync was made.
    func persist(_ ready: Ready) throws -> Bool {
        switch self {
        case .memory(let storage):
            if let hardState = ready.hardState { storage.setHardState(hardState) }
            if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
            storage.append(ready.entries)
            return false
        case .durable(let log):
            try log.persist(hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot)
            guard ready.mustSync else { return false }
            try log.sync()
            return true
        }
    }
}

/// Lets the members' persistence run on parallel threads; each task touches only its own member.
final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

final class Cluster {
    let nodes: [RaftNode]
    let persistence: [Persistence]
    var inboxes: [NodeID: [Message]] = [:]
    var fsyncs = 0

    init(durableIn directory: TemporaryDirectory?) throws {
        let configuration = ConfigurationState(voters: Set(members))
        var persistence: [Persistence] = []
        for id in members {
            if let directory {
                let log = try DurableLog.open(directory: directory.file("n\(id)"), fileSystem: PosixFileSystem())
                try log.bootstrap(configuration: configuration)
                persistence.append(.durable(log))
            } else {
                persistence.append(.memory(MemoryRaftStorage(configuration: configuration)))
            }
        }
        self.persistence = persistence
        nodes = try members.enumerated().map { offset, id in
            try RaftNode(configuration: RaftConfiguration(id: id), storage: persistence[offset].storage,
                         random: SplitMix64(seed: id))
        }
    }

    /// Runs every member's ready batches once; returns the leader's newly applied proposals.
    func round() throws -> Int {
        let readies = nodes.map { $0.hasReady ? $0.ready() : nil }
        let synced = Unchecked([Bool](repeating: false, count: nodes.count))
        let failure = Unchecked<(any Error)?>(nil)
        let box = Unchecked((persistence, readies))
        DispatchQueue.concurrentPerform(iterations: nodes.count) { index in
            guard let ready = box.value.1[index] else { return }
            do { synced.value[index] = try box.value.0[index].persist(ready) } catch { failure.value = error }
        }
        if let error = failure.value { throw error }
        var applied = 0
        for (index, node) in nodes.enumerated() {
            guard let ready = readies[index] else { continue }
            if synced.value[index] { fsyncs += 1 }
            for message in ready.messages { inboxes[message.to, default: []].append(message) }
            if node.id == 1 { applied += ready.committedEntries.filter { !$0.data.isEmpty }.count }
            node.advance(ready)
        }
        for node in nodes {
            for message in inboxes.removeValue(forKey: node.id) ?? [] { node.step(message) }
        }
        return applied
    }
}

func run(durable: Bool, proposers: Int) throws -> (perSecond: Double, entriesPerFsync: Double) {
    let directory = durable ? TemporaryDirectory("raft-bench") : nil
    defer { directory?.remove() }
    let cluster = try Cluster(durableIn: directory)
    let leader = cluster.nodes[0]
    leader.campaign()
    for _ in 0..<1_000 where !leader.isReadyToServe { _ = try cluster.round() }
    precondition(leader.isReadyToServe, "member 1 must win the election it started in an idle cluster")
    let fsyncsBefore = cluster.fsyncs
    var outstanding = 0
    var committed = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let budget = UInt64(secondsPerRun * 1e9)
    while DispatchTime.now().uptimeNanoseconds - start < budget {
        while outstanding < proposers {
            _ = try leader.propose(payload)
            outstanding += 1
        }
        let applied = try cluster.round()
        outstanding -= applied
        committed += applied
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let fsyncs = cluster.fsyncs - fsyncsBefore
    return (Double(committed) / elapsed, fsyncs == 0 ? 0 : Double(committed * members.count) / Double(fsyncs))
}

print("Raft, 3 voters in one process, 128-byte proposals, \(secondsPerRun) s per run")
print("storage   proposers   committed/s   entries per fsync")
for durable in [false, true] {
    for proposers in [1, 16, 64] {
        let result = try run(durable: durable, proposers: proposers)
        let perFsync = durable ? String(format: "%17.1f", result.entriesPerFsync) : String(repeating: " ", count: 16) + "-"
        print(String(format: "%-9@ %9d %13.0f", durable ? "durable" : "memory", proposers, result.perSecond)
            + " " + perFsync)
    }
}
