import Foundation
import KV
import Logging
import NIOCore
import NIOPosix
import RESP
import Raft
import Server
import Synchronization
import Testing
import TestSupport

/// Three (then four) full nodes in one process, talking over real gRPC on 127.0.0.1: election, writes
/// forwarded from followers, linearizable reads on followers, a learner added, caught up through a snapshot
/// and promoted, and a new leader after the old one stops.
@Suite(.serialized) struct ClusterOverGRPCTests {
    final class TestNode: @unchecked Sendable {
        let runtime: NodeRuntime
        let task: Task<Void, any Error>
        let backend: NodeRedisBackend

        init(name: String, dir: TemporaryDirectory, grpcPort: Int, peers: [NodeConfiguration.Peer], join: Bool)
            throws
        {
            var configuration = NodeConfiguration(
                nodeName: name, dataDirectory: dir.file(name),
                grpcAddress: .init(host: "127.0.0.1", port: grpcPort), redisAddress: .init(host: "127.0.0.1", port: 0),
                metricsAddress: nil, initialCluster: peers, join: join)
            configuration.maxValueBytes = 1 << 20
            var options = ReplicatedNode.Options()
            // The production tick: the suite runs beside CPU-heavy tests, and shorter election timeouts
            // turn scheduling delays into repeated elections.
            options.tickInterval = .milliseconds(100)
            options.snapshotEveryEntries = 40
            options.entriesKeptAfterSnapshot = 5
            runtime = try NodeRuntime(configuration: configuration, options: options, logger: Logger(label: name))
            backend = NodeRedisBackend(node: runtime.node, store: runtime.node.store) { "" }
            let runtime = self.runtime
            task = Task { try await runtime.runWithoutSignals() }
        }

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    static func eventually(_ what: String, timeout: Duration = .seconds(60),
                           _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    static func set(_ node: TestNode, _ key: String, _ value: String) async -> Bool {
        let command = Command.set(key: Array(key.utf8), value: Array(value.utf8), condition: .always, expiry: .none,
                                  returnOld: false)
        return (try? await node.backend.execute(command)) == .ok
    }

    static func get(_ node: TestNode, _ key: String) async -> RESPValue? {
        try? await node.backend.read(.get(Array(key.utf8)))
    }

    @Test func replicatesForwardsAddsALearnerAndSurvivesALeaderStop() async throws {
        let dir = TemporaryDirectory("cluster")
        defer { dir.remove() }
        let ports = try TestPorts.free(4)
        let peers = (0..<3).map { NodeConfiguration.Peer(name: "n\($0 + 1)", address: .init(host: "127.0.0.1", port: ports[$0])) }
        var nodes = try (0..<3).map { try TestNode(name: "n\($0 + 1)", dir: dir, grpcPort: ports[$0], peers: peers, join: false) }
        try await Self.eventually("a leader") { await nodes[0].runtime.node.status().leaderName != nil }
        // Every member accepts writes (followers forward) and serves linearizable reads.
        for (index, node) in nodes.enumerated() {
            try await Self.eventually("write through n\(index + 1)") { await Self.set(node, "k\(index)", "v\(index)") }
        }
        for node in nodes {
            for index in 0..<3 { #expect(await Self.get(node, "k\(index)") == .bulk("v\(index)")) }
        }
        // Enough writes for snapshots and compaction, so a learner catches up from a snapshot.
        for n in 0..<60 { #expect(await Self.set(nodes[n % 3], "bulk\(n % 10)", "value\(n)")) }
        let learner = try TestNode(name: "n4", dir: dir, grpcPort: ports[3], peers: peers, join: true)
        nodes.append(learner)
        let leaderName = try #require(await nodes[0].runtime.node.status().leaderName)
        let leader = nodes.first { $0.runtime.configuration.nodeName == leaderName }!
        _ = try await leader.runtime.node.addLearner(name: "n4", address: "127.0.0.1:\(ports[3])")
        try await Self.eventually("the learner catching up") {
            await Self.get(learner, "bulk9") == .bulk("value59")
        }
        _ = try await leader.runtime.node.promote(name: "n4")
        let status = await leader.runtime.node.status()
        #expect(status.members.count == 4)
        #expect(status.members.first { $0.name == "n4" }?.role == .follower)
        // The leader stops; the others elect a new one and keep every acknowledged write.
        await leader.stop()
        let survivors = nodes.filter { $0 !== leader }
        try await Self.eventually("a new leader") {
            let name = await survivors[0].runtime.node.status().leaderName
            return name != nil && name != leaderName
        }
        try await Self.eventually("a write after failover") { await Self.set(survivors[0], "after", "failover") }
        for node in survivors {
            try await Self.eventually("reads after failover") { await Self.get(node, "after") == .bulk("failover") }
            #expect(await Self.get(node, "k1") == .bulk("v1"))
        }
        for node in survivors { await node.stop() }
    }
}
