import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Raft
import Synchronization

@testable import Server

/// Collects the messages a test member receives and waits, bounded in time, for expected ones.
final class MessageInbox: Sendable {
    private let messages = Mutex<[Message]>([])

    func append(_ message: Message) { messages.withLock { $0.append(message) } }

    var received: [Message] { messages.withLock { $0 } }

    /// Removes and returns everything received so far.
    func take() -> [Message] {
        messages.withLock { messages in
            defer { messages.removeAll() }
            return messages
        }
    }

    /// Polls until `predicate` holds for the received messages or `timeout` passes; returns whether it held.
    func wait(timeout: Duration = .seconds(15), until predicate: ([Message]) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { predicate(received) }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A forwarding handler with canned answers: an empty payload is refused, any other is "applied".
struct FakeForwardingHandler: RaftForwardingHandler {
    func forward(payload: [UInt8]) async -> ForwardResult {
        guard !payload.isEmpty else {
            return .refused(RaftForwardingRefusal(reason: "not the leader", leaderID: 3, leaderAddress: "127.0.0.1:9"))
        }
        return .applied(index: 7, term: 2, result: payload.reversed())
    }

    func readIndex() async -> ReadIndexResult { .index(42) }
}

/// One member under test: a Raft transport server, its transport and what it received.
struct TransportMember: Sendable {
    let id: NodeID
    let inbox = MessageInbox()
    let metrics = MetricsRegistry()
    let transport: GRPCRaftTransport
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    init(id: NodeID, port: Int = 0, configuration: RaftTransportConfiguration) {
        self.id = id
        var logger = Logger(label: "raft-transport-test-\(id)")
        logger.logLevel = .warning
        transport = GRPCRaftTransport(localID: id, configuration: configuration, metrics: metrics, logger: logger)
        server = Self.makeServer(id: id, port: port, metrics: transport.metrics, inbox: inbox, logger: logger)
    }

    static func makeServer(
        id: NodeID, port: Int, metrics: RaftTransportMetrics, inbox: MessageInbox, logger: Logger
    ) -> GRPCServer<HTTP2ServerTransport.Posix> {
        let service = RaftTransportService(
            localID: id, metrics: metrics, handler: FakeForwardingHandler(), logger: logger, onMessage: inbox.append)
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            config.rpc.maxRequestPayloadSize = RaftTransportConfiguration.defaultMaxRequestPayloadBytes
        }
        return GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext, config: config),
            services: [service])
    }

    /// The port the server is bound to (waits until it is listening).
    func port() async throws -> Int {
        let address = try await server.transport.listeningAddress
        guard let port = address.ipv4?.port else { throw HarnessError.notListening }
        return port
    }

    func stop() {
        transport.shutdown()
        server.beginGracefulShutdown()
    }
}

enum HarnessError: Error {
    case notListening
    case shutdownTimedOut
}

/// Runs `count` members with ids 1...count, every one knowing every other, and stops them all afterwards.
///
/// Shutdown is bounded: if the members do not stop within `stopTimeout`, the test fails.
func withMembers<Result: Sendable>(
    _ count: Int,
    configuration: RaftTransportConfiguration = RaftTransportConfiguration(),
    stopTimeout: Duration = .seconds(20),
    _ body: ([TransportMember]) async throws -> Result
) async throws -> Result {
    let members = (1...count).map { TransportMember(id: NodeID($0), configuration: configuration) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for member in members {
            group.addTask { try await member.server.serve() }
            group.addTask { await member.transport.run() }
        }
        let result: Result
        do {
            var addresses: [NodeID: String] = [:]
            for member in members { addresses[member.id] = "127.0.0.1:\(try await member.port())" }
            for member in members { try member.transport.setPeers(addresses) }
            result = try await body(members)
        } catch {
            for member in members { member.stop() }
            group.cancelAll()
            throw error
        }
        for member in members { member.stop() }
        try await drain(&group, tasks: 2 * count, timeout: stopTimeout)
        return result
    }
}

/// Waits for `tasks` tasks of `group` to finish, failing with ``HarnessError/shutdownTimedOut`` after `timeout`.
func drain(_ group: inout ThrowingTaskGroup<Void, any Error>, tasks: Int, timeout: Duration) async throws {
    group.addTask {
        try await Task.sleep(for: timeout)
        throw HarnessError.shutdownTimedOut
    }
    for _ in 0..<tasks { try await group.next() }
    group.cancelAll()
    while let _ = try? await group.next() {}
}

/// Runs a lone transport server (no outgoing transport) for member `id` on `port`, stopping it afterwards.
func withReceiver<Result: Sendable>(
    id: NodeID, port: Int, stopTimeout: Duration = .seconds(20), _ body: (TransportMember) async throws -> Result
) async throws -> Result {
    let member = TransportMember(id: id, port: port, configuration: RaftTransportConfiguration())
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await member.server.serve() }
        let result: Result
        do {
            result = try await body(member)
        } catch {
            member.server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
        member.server.beginGracefulShutdown()
        try await drain(&group, tasks: 1, timeout: stopTimeout)
        return result
    }
}

/// Sends heartbeats carrying increasing commit values from `sender` to `peer` until the receiver's inbox
/// holds one with a commit of at least `first`, or `timeout` passes; returns whether one arrived.
func keepSending(
    from sender: GRPCRaftTransport, to peer: NodeID, startingAt first: UInt64, until inbox: MessageInbox,
    timeout: Duration = .seconds(15)
) async -> Bool {
    var commit = first
    return await inbox.wait(timeout: timeout) { received in
        if received.contains(where: { $0.commit >= first }) { return true }
        sender.send([Message(kind: .heartbeat, from: sender.localID, to: peer, term: 1, commit: commit)])
        commit += 1
        return false
    }
}
