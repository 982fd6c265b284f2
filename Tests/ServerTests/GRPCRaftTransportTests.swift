import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Raft
import ServiceLifecycle
import Testing

@testable import Server

/// Members on 127.0.0.1 exchanging Raft messages through ``GRPCRaftTransport`` and ``RaftTransportService``.
@Suite(.timeLimit(.minutes(2))) struct GRPCRaftTransportTests {
    /// The transport counter `elastickv_raft_transport_<event>_total` (with `reason` for drops), as scraped.
    static func total(of event: String, _ metrics: RaftTransportMetrics, reason: String? = nil) -> Double {
        metrics.registry.sample("elastickv_raft_transport_\(event)_total", labels: reason.map { ["reason": $0] } ?? [:])
            ?? 0
    }

    static let fastReconnect = RaftTransportConfiguration(
        initialReconnectBackoff: .milliseconds(20), maxReconnectBackoff: .milliseconds(200))

    @Test func threeMembersExchangeMessagesInOrder() async throws {
        try await withMembers(3, configuration: Self.fastReconnect) { members in
            let toTwo = (1...20).map { heartbeat(from: 1, to: 2, commit: UInt64($0)) }
            let toThree = [
                Message(
                    kind: .append, from: 1, to: 3, term: 2, logTerm: 1, index: 4,
                    entries: [Entry(term: 2, index: 5, data: [1, 2, 3]), Entry(term: 2, index: 6)], commit: 4),
                Message(kind: .vote, from: 1, to: 3, term: 3, logTerm: 2, index: 6, isLeadershipTransfer: true),
            ]
            members[0].transport.send(toTwo + toThree)
            members[2].transport.send([Message(kind: .voteResponse, from: 3, to: 1, term: 3, reject: true)])
            #expect(await members[1].inbox.wait { $0.count == toTwo.count })
            #expect(await members[2].inbox.wait { $0.count == toThree.count })
            #expect(await members[0].inbox.wait { $0.count == 1 })
            #expect(members[1].inbox.received == toTwo)
            #expect(members[2].inbox.received == toThree)
            #expect(members[0].inbox.received.first?.kind == .voteResponse)
            #expect(Self.total(of: "sent_frames", members[0].transport.metrics) == 22)
            #expect(Self.total(of: "received_frames", members[1].transport.metrics) == 20)
        }
    }

    @Test func multiChunkSnapshotNearOneMiBArrivesWhole() async throws {
        try await withMembers(2, configuration: Self.fastReconnect) { members in
            let chunkBytes = (1 << 20) - 512
            let data = (0..<(3 * chunkBytes)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let metadata = SnapshotMetadata(index: 900, term: 4, configuration: ConfigurationState(voters: [1, 2]))
            let chunks = (0..<3).map { part in
                let slice = Array(data[(part * chunkBytes)..<((part + 1) * chunkBytes)])
                let chunk = SnapshotChunk(
                    metadata: metadata, offset: part * chunkBytes, totalBytes: data.count, data: slice)
                return Message(kind: .snapshotChunk, from: 1, to: 2, term: 4, snapshotChunk: chunk)
            }
            members[0].transport.send(chunks)
            #expect(await members[1].inbox.wait { $0.count == 3 })
            let received = members[1].inbox.received
            #expect(received == chunks)
            #expect(received.compactMap(\.snapshotChunk).flatMap(\.data) == data)
        }
    }

    @Test func appendWithAProposalOfTheMaximumSizeArrives() async throws {
        try await withMembers(2, configuration: Self.fastReconnect) { members in
            let proposal = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 3) }
            let append = Message(
                kind: .append, from: 1, to: 2, term: 1, entries: [Entry(term: 1, index: 1, data: proposal)])
            members[0].transport.send([append])
            #expect(await members[1].inbox.wait { $0.count == 1 })
            #expect(members[1].inbox.received == [append])
        }
    }

    @Test func peerThatStartsLateReceivesMessagesSentAfterItStarted() async throws {
        let port = try await reservePort()
        try await withMembers(1, configuration: Self.fastReconnect) { members in
            let sender = members[0].transport
            try sender.setPeers([2: "127.0.0.1:\(port)"])
            sender.send([heartbeat(from: 1, to: 2, commit: 0)])
            let retried = await eventually(timeout: .seconds(10)) {
                Self.total(of: "stream_failures", sender.metrics) >= 2
            }
            #expect(retried, "the sender should have retried the absent peer")
            try await withReceiver(id: 2, port: port) { receiver in
                let bound = try await receiver.port()
                #expect(bound == port)
                #expect(await keepSending(from: sender, to: 2, startingAt: 1, until: receiver.inbox))
            }
        }
    }

    @Test func peerThatRestartsReceivesMessagesAgain() async throws {
        let port = try await reservePort()
        try await withMembers(1, configuration: Self.fastReconnect) { members in
            let sender = members[0].transport
            try sender.setPeers([2: "127.0.0.1:\(port)"])
            for life in 0..<3 {
                let first = UInt64(life) * 1_000_000
                try await withReceiver(id: 2, port: port) { receiver in
                    #expect(
                        await keepSending(from: sender, to: 2, startingAt: first, until: receiver.inbox), "life \(life)"
                    )
                }
            }
        }
    }

    @Test func gracefulShutdownOfTheServiceGroupStopsTheTransport() async throws {
        let port = try await reservePort()
        let transport = GRPCRaftTransport(
            localID: 1, configuration: Self.fastReconnect, metrics: MetricsRegistry(), logger: Logger(label: "test"))
        try transport.setPeers([2: "127.0.0.1:\(port)"])
        transport.send([heartbeat(from: 1, to: 2, commit: 1)])
        let group = ServiceGroup(services: [transport], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually(timeout: .seconds(10)) { Self.total(of: "stream_failures", transport.metrics) >= 1 })
            await group.triggerGracefulShutdown()
            try await drain(&tasks, tasks: 1, timeout: .seconds(20))
        }
        #expect(transport.peers.isEmpty)
        #expect(Self.total(of: "dropped", transport.metrics, reason: "closed") <= 1)
    }

    @Test func messagesToUnknownOrUnreachablePeersAreDroppedWithoutBlocking() async throws {
        let configuration = RaftTransportConfiguration(
            maxQueuedMessagesPerPeer: 8, initialReconnectBackoff: .milliseconds(20),
            maxReconnectBackoff: .milliseconds(100))
        let port = try await reservePort()
        try await withMembers(1, configuration: configuration) { members in
            let transport = members[0].transport
            try transport.setPeers([5: "127.0.0.1:\(port)"])
            let started = ContinuousClock.now
            transport.send((1...10_000).map { heartbeat(from: 1, to: 99, commit: UInt64($0)) })
            transport.send((1...100).map { heartbeat(from: 1, to: 5, commit: UInt64($0)) })
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(Self.total(of: "dropped", transport.metrics, reason: "unknown_peer") == 10_000)
            #expect(Self.total(of: "dropped", transport.metrics, reason: "queue_full") >= 92)
        }
    }

    @Test func forwardAndReadIndexRoundTrip() async throws {
        try await withMembers(1) { members in
            let address = "127.0.0.1:\(try await members[0].port())"
            try await withForwardingClient { client in
                let applied = try await client.forward(payload: [1, 2, 3], to: address)
                #expect(applied == .applied(index: 7, term: 2, result: [3, 2, 1]))
                let refusal = RaftForwardingRefusal(reason: "not the leader", leaderID: 3, leaderAddress: "127.0.0.1:9")
                let refused = try await client.forward(payload: [], to: address)
                #expect(refused == .refused(refusal))
                let readIndex = try await client.readIndex(from: address)
                #expect(readIndex == .index(42))
            }
        }
    }

    @Test func forwardingClientKeepsAtMostItsConnectionLimit() async throws {
        try await withMembers(3) { members in
            var addresses: [String] = []
            for member in members { addresses.append("127.0.0.1:\(try await member.port())") }
            try await withForwardingClient(maxConnections: 2) { client in
                for round in 0..<2 {
                    for address in addresses {
                        let readIndex = try await client.readIndex(from: address)
                        #expect(readIndex == .index(42), "round \(round)")
                    }
                }
                #expect(client.openConnectionCount == 2)
            }
        }
    }

    @Test func forwardingToAnUnreachableOrInvalidAddressThrows() async throws {
        let port = try await reservePort()
        try await withForwardingClient { client in
            await #expect(throws: RaftForwardingError.self) {
                _ = try await client.readIndex(from: "127.0.0.1:\(port)")
            }
            await #expect(throws: RaftForwardingError.invalidAddress("nohost")) {
                _ = try await client.forward(payload: [1], to: "nohost")
            }
            client.shutdown()
            await #expect(throws: RaftForwardingError.self) {
                _ = try await client.readIndex(from: "127.0.0.1:\(port)")
            }
        }
    }

    /// Runs a ``RaftForwardingClient`` for `body` and stops it afterwards, bounded in time.
    func withForwardingClient(
        maxConnections: Int = 4, _ body: (RaftForwardingClient) async throws -> Void
    ) async throws {
        let client = RaftForwardingClient(requestTimeout: .seconds(10), maxConnections: maxConnections)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            do { try await body(client) } catch {
                client.shutdown()
                throw error
            }
            client.shutdown()
            try await drain(&group, tasks: 1, timeout: .seconds(20))
        }
    }

    @Test func undecodableFramesAreDroppedAndCounted() async throws {
        try await withMembers(1) { members in
            let port = try await members[0].port()
            let valid = heartbeat(from: 7, to: 1, commit: 3)
            let misaddressed = heartbeat(from: 7, to: 4, commit: 3)
            let frames = [
                frame(from: 7, to: 1, bytes: [1, 2, 3]), frame(from: 8, to: 1, message: valid),
                frame(from: 7, to: 4, message: misaddressed), frame(from: 7, to: 1, message: valid),
            ]
            let summary = try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                try await Elastickv_V1_RaftTransport.Client(wrapping: client).deliver { writer in
                    try await writer.write(contentsOf: frames)
                }
            }
            #expect(summary.frames == 1)
            #expect(members[0].inbox.received == [valid])
            #expect(Self.total(of: "rejected_frames", members[0].transport.metrics) == 3)
        }
    }

    @Test func setPeersRejectsBadAddressesAndIgnoresSelf() throws {
        let transport = GRPCRaftTransport(localID: 1, metrics: MetricsRegistry(), logger: Logger(label: "test"))
        for bad in ["", "host", "host:0", "host:70000", ":80", "::1:80", "[]:80"] {
            #expect(throws: RaftTransportError.invalidPeerAddress(bad)) { try transport.setPeers([2: bad]) }
        }
        try transport.setPeers([1: "127.0.0.1:1000", 2: "[::1]:1001", 3: "node-3.local:7001"])
        #expect(transport.peers == [2: "[::1]:1001", 3: "node-3.local:7001"])
        try transport.setPeers([3: "node-3.local:7002"])
        #expect(transport.peers == [3: "node-3.local:7002"])
        transport.shutdown()
        transport.send([heartbeat(from: 1, to: 3, commit: 0)])
        #expect(Self.total(of: "dropped", transport.metrics, reason: "unknown_peer") == 1)
    }

    // MARK: - Helpers

    func heartbeat(from: NodeID, to: NodeID, commit: UInt64) -> Message {
        Message(
            kind: .heartbeat, from: from, to: to, term: 1, commit: commit, context: [UInt8(truncatingIfNeeded: commit)])
    }

    func frame(from: NodeID, to: NodeID, message: Message) -> Elastickv_V1_RaftFrame {
        frame(from: from, to: to, bytes: try! MessageWireCodec.encode(message))
    }

    func frame(from: NodeID, to: NodeID, bytes: [UInt8]) -> Elastickv_V1_RaftFrame {
        var frame = Elastickv_V1_RaftFrame()
        frame.from = from
        frame.to = to
        frame.message = Data(bytes)
        return frame
    }

    /// A loopback port nobody listens on: bound by a server that is then stopped.
    func reservePort() async throws -> Int {
        let member = TransportMember(id: 100, configuration: RaftTransportConfiguration())
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await member.server.serve() }
            let port = try await member.port()
            member.server.beginGracefulShutdown()
            try await drain(&group, tasks: 1, timeout: .seconds(20))
            return port
        }
    }
}
