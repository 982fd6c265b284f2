import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Raft
import ServiceLifecycle
import Synchronization

/// Sends a follower's writes and read-index requests to the leader's Raft transport service.
///
/// Connections are kept per address (at most ``maxConnections``, the least recently used closed first), so
/// forwarded requests to the same leader share one HTTP/2 connection. Run the client as a ServiceLifecycle
/// `Service`: ``run()`` owns the connections and returns after ``shutdown()`` or graceful shutdown; a
/// request made before `run()` starts waits for it, bounded by ``requestTimeout``.
public final class RaftForwardingClient: Service, Sendable {
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    private struct State {
        var clients: [String: Client] = [:]
        /// Addresses, least recently used first.
        var recency: [String] = []
        var newClients: AsyncStream<Client>.Continuation?
        var isShutDown = false
    }

    /// How a connection to an unreachable leader retries: the wait doubles from 50 ms up to 2 s, so a leader
    /// that comes back is found quickly while requests in between fail fast.
    static let reconnectBackoff = HTTP2ClientTransport.Config.Backoff(
        initial: .milliseconds(50), max: .seconds(2), multiplier: 2, jitter: 0.1)

    /// The longest a forwarded request may wait for the leader's answer.
    public let requestTimeout: Duration
    /// The most leader addresses with an open connection.
    public let maxConnections: Int
    private let state: Mutex<State>
    private let newClientStream: AsyncStream<Client>

    public init(requestTimeout: Duration = .seconds(10), maxConnections: Int = 4) {
        precondition(requestTimeout > .zero, "requestTimeout must be positive.")
        precondition(maxConnections > 0, "maxConnections must be positive.")
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        let (stream, continuation) = AsyncStream<Client>.makeStream()
        newClientStream = stream
        state = Mutex(State(newClients: continuation))
    }

    /// How many leader addresses currently have a connection.
    public var openConnectionCount: Int { state.withLock { $0.clients.count } }

    /// Runs every connection until ``shutdown()`` or graceful shutdown of the service group.
    public func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await client in newClientStream {
                    group.addTask { try? await client.runConnections() }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Closes every connection (in-flight requests finish first); later requests fail as unavailable.
    public func shutdown() {
        let (clients, continuation) = state.withLock { state in
            state.isShutDown = true
            defer {
                state.clients = [:]
                state.recency = []
                state.newClients = nil
            }
            return (Array(state.clients.values), state.newClients)
        }
        continuation?.finish()
        for client in clients { client.beginGracefulShutdown() }
    }

    /// The connection to `address`, opened (and handed to ``run()``) when there is none.
    private func client(for address: String) throws(RaftForwardingError) -> Client {
        let peer: PeerAddress
        do { peer = try PeerAddress(parsing: address) } catch { throw .invalidAddress(address) }
        let transport: HTTP2ClientTransport.Posix
        let config = HTTP2ClientTransport.Posix.Config.defaults { $0.backoff = Self.reconnectBackoff }
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: peer.target, transportSecurity: .plaintext, config: config)
        } catch {
            throw .unavailable(address: address, reason: "\(error)")
        }
        let (client, evicted) = state.withLock { state -> (Client?, [Client]) in
            guard !state.isShutDown else { return (nil, []) }
            state.recency.removeAll { $0 == address }
            state.recency.append(address)
            if let existing = state.clients[address] { return (existing, []) }
            let created = Client(transport: transport)
            state.clients[address] = created
            state.newClients?.yield(created)
            var evicted: [Client] = []
            while state.recency.count > maxConnections {
                evicted += state.clients.removeValue(forKey: state.recency.removeFirst()).map { [$0] } ?? []
            }
            return (created, evicted)
        }
        for old in evicted { old.beginGracefulShutdown() }
        guard let client else { throw .unavailable(address: address, reason: "the forwarding client was shut down") }
        return client
    }

    /// Asks the leader at `address` to propose `payload` and waits for it to be applied there.
    ///
    /// - Returns: the leader's answer, possibly a refusal naming another leader.
    /// - Throws: ``RaftForwardingError`` when no answer arrived.
    public func forward(payload: [UInt8], to address: String) async throws(RaftForwardingError) -> ForwardResult {
        var request = Elastickv_V1_ForwardRequest()
        request.payload = Data(payload)
        let response = try await call(address) { client, options in
            try await client.forward(request, options: options)
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .applied(index: response.index, term: response.term, result: [UInt8](response.result))
    }

    /// Asks the leader at `address` for a linearizable read index.
    ///
    /// - Throws: ``RaftForwardingError`` when no answer arrived.
    public func readIndex(from address: String) async throws(RaftForwardingError) -> ReadIndexResult {
        let response = try await call(address) { client, options in
            try await client.readIndex(Elastickv_V1_ReadIndexRequest(), options: options)
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .index(response.index)
    }

    private func refusal(_ reason: String, _ leaderID: UInt64, _ leaderAddress: String) -> RaftForwardingRefusal {
        RaftForwardingRefusal(
            reason: reason, leaderID: leaderID == 0 ? nil : leaderID,
            leaderAddress: leaderAddress.isEmpty ? nil : leaderAddress)
    }

    private func call<Response: Sendable>(
        _ address: String,
        _ body: (Elastickv_V1_RaftTransport.Client<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Response
    ) async throws(RaftForwardingError) -> Response {
        let client = try client(for: address)
        var options = CallOptions.defaults
        options.timeout = requestTimeout
        options.waitForReady = false
        options.maxRequestMessageBytes = RaftTransportConfiguration.maxRequestPayloadBytes
        do {
            return try await body(Elastickv_V1_RaftTransport.Client(wrapping: client), options)
        } catch let error as RPCError {
            switch error.code {
            case .unavailable: throw .unavailable(address: address, reason: error.message)
            case .deadlineExceeded: throw .timedOut(address: address)
            default: throw .failed(address: address, reason: "\(error.code): \(error.message)")
            }
        } catch {
            throw .failed(address: address, reason: "\(error)")
        }
    }
}
