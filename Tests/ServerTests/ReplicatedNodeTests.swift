import KV
import Logging
import RESP
import RedisCommands
import Server
import Testing
import TestSupport

/// A single-member node end to end without sockets: writes through Raft and the durable log, linearizable
/// reads, restart from the data directory, snapshots and compaction.
@Suite struct ReplicatedNodeTests {
    static func configuration(_ dir: TemporaryDirectory) -> NodeConfiguration {
        var configuration = NodeConfiguration(dataDirectory: dir.path, metricsAddress: nil)
        configuration.initialCluster = [.init(name: "n1", address: configuration.grpcAddress)]
        return configuration
    }

    static func open(_ dir: TemporaryDirectory, options: ReplicatedNode.Options = .init())
        async throws -> (ReplicatedNode, NodeRedisBackend)
    {
        let node = try NodeStartup.open(configuration(dir), options: options, logger: Logger(label: "test"))
        await node.campaignIfSoleVoter()
        let backend = NodeRedisBackend(node: node, store: node.store) { "" }
        return (node, backend)
    }

    static func set(_ backend: NodeRedisBackend, _ key: String, _ value: String) async throws -> CommandResult {
        try await backend.execute(.set(key: Array(key.utf8), value: Array(value.utf8), condition: .always,
                                       expiry: .none, returnOld: false))
    }

    @Test func writesSurviveARestart() async throws {
        let dir = TemporaryDirectory("node")
        defer { dir.remove() }
        do {
            let (node, backend) = try await Self.open(dir)
            #expect(try await Self.set(backend, "a", "1") == .ok)
            #expect(try await backend.execute(.incrementBy(key: Array("n".utf8), delta: 5)) == .integer(5))
            #expect(try await backend.read(.get(Array("a".utf8))) == .bulk("1"))
            await node.close()
        }
        let (node, backend) = try await Self.open(dir)
        #expect(try await backend.read(.get(Array("a".utf8))) == .bulk("1"))
        #expect(try await backend.execute(.incrementBy(key: Array("n".utf8), delta: 1)) == .integer(6))
        let status = await node.raftStatus()
        #expect(status.role == .leader)
        #expect(status.appliedIndex == status.commitIndex)
        await node.close()
    }

    @Test func snapshotsCompactTheLogAndRestartFromThem() async throws {
        let dir = TemporaryDirectory("node-snapshot")
        defer { dir.remove() }
        var options = ReplicatedNode.Options()
        options.snapshotEveryEntries = 20
        options.entriesKeptAfterSnapshot = 5
        do {
            let (node, backend) = try await Self.open(dir, options: options)
            for n in 0..<60 { #expect(try await Self.set(backend, "k\(n % 7)", "v\(n)") == .ok) }
            await node.close()
        }
        let (node, backend) = try await Self.open(dir, options: options)
        for n in 53..<60 { #expect(try await backend.read(.get(Array("k\(n % 7)".utf8))) == .bulk("v\(n)")) }
        await node.close()
    }
}
