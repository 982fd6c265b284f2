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
        let node = try await ReopeningNode.open {
            try NodeStartup.open(configuration(dir), options: options, logger: Logger(label: "test"))
        }
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

    @Test func databasesSurviveARestartAndASnapshot() async throws {
        let dir = TemporaryDirectory("node-databases")
        defer { dir.remove() }
        var options = ReplicatedNode.Options()
        options.snapshotEveryEntries = 2
        do {
            let (node, backend) = try await Self.open(dir, options: options)
            for database: UInt8 in [0, 5, 15] {
                #expect(try await backend.execute(.database(database, .set(key: Array("k".utf8), value: [database],
                                                                           condition: .always, expiry: .none,
                                                                           returnOld: false))) == .ok)
            }
            #expect(try await backend.execute(.database(5, .flushDatabase)) == .ok)
            let members = [ScoredMember(score: 2, member: Array("b".utf8)), ScoredMember(score: 1, member: Array("a".utf8))]
            #expect(try await backend.execute(.database(3, .sortedSets(.add(key: Array("z".utf8), entries: members,
                                                                             options: [])))) == .integer(2))
            #expect(try await backend.execute(.swapDatabases(3, 4)) == .ok)
            await node.close()
        }
        let (node, backend) = try await Self.open(dir, options: options)
        #expect(try await backend.read(.get(Array("k".utf8))) == .bulkString([0]))
        #expect(try await backend.read(.inDatabase(5, .get(Array("k".utf8)))) == .null)
        #expect(try await backend.read(.inDatabase(15, .get(Array("k".utf8)))) == .bulkString([15]))
        #expect(try await backend.read(.inDatabase(4, .sortedSetRange(Array("z".utf8), SortedSetQuery(.rank(start: 0, stop: -1)),
                                                                     withScores: false)))
                == .array([.bulk("a"), .bulk("b")]), "a sorted set SWAPDB moved survives the restart")
        #expect(try await backend.read(.inDatabase(3, .type(Array("z".utf8)))) == .simpleString("none"))
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

/// The expiry sweep: a leader's sweeper deletes expired keys from storage (element rows of collections
/// included) and leaves live ones.
@Suite(.timeLimit(.minutes(1))) struct ExpirySweeperTests {
    @Test func expiredKeysLeaveStorage() async throws {
        let dir = TemporaryDirectory("sweep")
        defer { dir.remove() }
        let (node, backend) = try await ReplicatedNodeTests.open(dir)
        for index in 0..<30 { #expect(try await ReplicatedNodeTests.set(backend, "k\(index)", "v") == .ok) }
        _ = try await backend.execute(.list(.push(key: Array("list".utf8), elements: [[1], [2], [3]], left: false,
                                                  onlyIfExists: false)))
        #expect(try await ReplicatedNodeTests.set(backend, "kept", "v") == .ok)
        let sweeper = ExpirySweeper(node: node, backend: backend, interval: .milliseconds(20), keysPerSweep: 7,
                                    logger: Logger(label: "test"))
        let running = Task { try await sweeper.run() }
        defer { running.cancel() }
        func stored() throws -> (keys: Int, elements: Int) {
            (try node.store.scan(from: [0x00], to: [0x01], nowMillis: 0, limit: 1_000).count,
             try node.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000).count)
        }
        #expect(try stored() == (32, 3))
        // Every key but one expires (a deadline already past when applied deletes at once; the sweep takes
        // the others, however slowly the writes went).
        for key in (0..<30).map({ "k\($0)" }) + ["list"] {
            _ = try await backend.execute(.expireAt(key: Array(key.utf8), atMillis: backend.nowMillis() + 200))
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while try stored() != (1, 0), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try stored() == (1, 0), "only the key without a TTL is left")
        #expect(try await backend.read(.get(Array("kept".utf8))) == .bulk("v"))
        running.cancel()
        await node.close()
    }
}
