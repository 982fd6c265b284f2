import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
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
    /// The largest request sent (a forwarded proposal), as large as the leaders accept.
    public let maxRequestPayloadBytes: Int
    private let state: Mutex<State>
    private let newClientStream: AsyncStream<Client>

    /// mTLS to the other members when configured.
    let tls: GRPCTLS?

    public init(requestTimeout: Duration = .seconds(10), maxConnections: Int = 4,
                maxRequestPayloadBytes: Int = RaftTransportConfiguration.defaultMaxRequestPayloadBytes,
                tls: GRPCTLS? = nil) {
        self.tls = tls
        self.maxRequestPayloadBytes = maxRequestPayloadBytes
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
        let config = HTTP2ClientTransport.Posix.Config.defaults {
            $0.backoff = Self.reconnectBackoff
            $0.http2.targetWindowSize = RaftTransportConfiguration.http2WindowBytes
            $0.http2.maxFrameSize = RaftTransportConfiguration.http2MaxFrameBytes
        }
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: peer.target, transportSecurity: tls.clientSecurity, config: tls.clientConfig(config))
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
    /// The request goes out as a stream whose producer marks the moment the payload is handed to the
    /// connection, so a failure before that is a definite ``RaftForwardingError/unavailable(address:reason:)``
    /// and any failure after it is ``RaftForwardingError/outcomeUnknown(address:reason:)`` (the leader may
    /// have proposed it).
    ///
    /// - Returns: the leader's answer, possibly a refusal naming another leader.
    /// - Throws: ``RaftForwardingError`` when no answer arrived.
    public func forward(payload: [UInt8], to address: String) async throws(RaftForwardingError) -> ForwardResult {
        var request = Elastickv_V1_ForwardRequest()
        request.payload = Data(payload)
        let message = request
        let handedOver = HandOverMark()
        let streamed = StreamingClientRequest<Elastickv_V1_ForwardRequest> { writer in
            handedOver.mark()
            try await writer.write(message)
        }
        let response = try await call(address, handedOver: handedOver) { client, options in
            try await client.clientStreaming(
                request: streamed, descriptor: Elastickv_V1_RaftTransport.Method.Forward.descriptor,
                serializer: ProtobufSerializer<Elastickv_V1_ForwardRequest>(),
                deserializer: ProtobufDeserializer<Elastickv_V1_ForwardResponse>(), options: options
            ) { try $0.message }
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .applied(index: response.index, term: response.term, result: [UInt8](response.result))
    }

    /// Asks the leader at `address` for a linearizable read index.
    ///
    /// - Throws: ``RaftForwardingError`` when no answer arrived (a read has no effect either way).
    public func readIndex(from address: String) async throws(RaftForwardingError) -> ReadIndexResult {
        let response = try await call(address, handedOver: nil) { client, options in
            try await Elastickv_V1_RaftTransport.Client(wrapping: client)
                .readIndex(Elastickv_V1_ReadIndexRequest(), options: options)
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .index(response.index)
    }

    /// Asks the member at `address` to deliver a message to its own subscribers; answers how many received
    /// it. Bounded by `timeout` (a member that does not answer in time counts no receivers).
    public func publish(channel: [UInt8], message: [UInt8], sharded: Bool, to address: String, timeout: Duration)
        async throws(RaftForwardingError) -> Int
    {
        var request = Elastickv_V1_PublishRequest()
        request.channel = Data(channel)
        request.message = Data(message)
        request.sharded = sharded
        let sent = request
        let response = try await call(address, handedOver: nil, timeout: timeout) { client, options in
            try await Elastickv_V1_RaftTransport.Client(wrapping: client).publish(sent, options: options)
        }
        return Int(clamping: response.receivers)
    }

    /// Asks the member at `address` for its own pub/sub channels, subscriber counts and patterns.
    public func pubSubStatus(sharded: Bool, pattern: [UInt8]?, channels: [[UInt8]], from address: String,
                             timeout: Duration) async throws(RaftForwardingError) -> PubSubStatus
    {
        var request = Elastickv_V1_PubSubStatusRequest()
        request.sharded = sharded
        request.hasPattern_p = pattern != nil
        request.pattern = Data(pattern ?? [])
        request.channels = channels.map { Data($0) }
        let sent = request
        let response = try await call(address, handedOver: nil, timeout: timeout) { client, options in
            try await Elastickv_V1_RaftTransport.Client(wrapping: client).pubSubStatus(sent, options: options)
        }
        return PubSubStatus(channels: Set(response.channels.map { [UInt8]($0) }),
                            counts: response.subscribers.map { Int(clamping: $0) },
                            patterns: Set(response.patterns.map { [UInt8]($0) }))
    }

    private func refusal(_ reason: String, _ leaderID: UInt64, _ leaderAddress: String) -> RaftForwardingRefusal {
        RaftForwardingRefusal(
            reason: reason, leaderID: leaderID == 0 ? nil : leaderID,
            leaderAddress: leaderAddress.isEmpty ? nil : leaderAddress)
    }

    /// Runs one call on the connection to `address` and classifies its failure.
    ///
    /// - Parameter handedOver: set by the request's producer once the request reaches the connection; `nil`
    ///   for calls without effects, whose failures are all reported as unavailable.
    private func call<Response: Sendable>(
        _ address: String, handedOver: HandOverMark?, timeout: Duration? = nil,
        _ body: (Client, CallOptions) async throws -> Response
    ) async throws(RaftForwardingError) -> Response {
        let client = try client(for: address)
        var options = CallOptions.defaults
        options.timeout = timeout ?? requestTimeout
        options.waitForReady = false
        options.maxRequestMessageBytes = maxRequestPayloadBytes
        do {
            return try await body(client, options)
        } catch {
            let reason = (error as? RPCError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            if handedOver?.isMarked == true { throw .outcomeUnknown(address: address, reason: reason) }
            throw .unavailable(address: address, reason: reason)
        }
    }
}

/// Set once a request's producer hands the request to its connection: from then on it may reach the peer.
final class HandOverMark: Sendable {
    private let marked = Atomic<Bool>(false)

    func mark() { marked.store(true, ordering: .releasing) }

    var isMarked: Bool { marked.load(ordering: .acquiring) }
}
