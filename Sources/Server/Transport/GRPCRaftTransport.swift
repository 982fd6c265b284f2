import ControlPlane
import Logging
import Raft
import ServiceLifecycle
import Synchronization

/// Sends Raft messages to peers over gRPC: one long-lived client-streaming `Deliver` call per peer.
///
/// The node creates one transport, gives it the peers' addresses with ``setPeers(_:)`` (again whenever
/// the membership changes), runs it as a ServiceLifecycle `Service` (``run()`` owns every gRPC client),
/// and calls ``send(_:)`` with each `Ready`'s messages. `send` never blocks: each peer has a bounded
/// queue (``RaftTransportConfiguration/maxQueuedMessagesPerPeer`` and
/// ``RaftTransportConfiguration/maxQueuedBytesPerPeer``) drained by that peer's stream; when it is full
/// the oldest non-snapshot messages are dropped and counted, which Raft tolerates. A peer that is down is
/// retried with capped exponential backoff; messages sent meanwhile wait in its queue. Messages to
/// a member without an address are dropped and counted. Incoming messages arrive through
/// ``RaftTransportService`` on the node's gRPC server, not through this type.
public final class GRPCRaftTransport: RaftTransport, Service, Sendable {
    private struct State {
        var outboxes: [NodeID: PeerOutbox] = [:]
        var newOutboxes: AsyncStream<PeerOutbox>.Continuation?
        var isShutDown = false
        var hasRun = false
    }

    /// This member's id, stamped on every frame.
    public let localID: NodeID
    let configuration: RaftTransportConfiguration
    /// The transport's counters.
    public let metrics: RaftTransportMetrics
    let logger: Logger
    /// Rate-limits per-message warnings (a message that cannot be encoded is dropped at every send).
    let logThrottle = LogThrottle()
    private let state: Mutex<State>
    private let newOutboxStream: AsyncStream<PeerOutbox>

    /// Creates a transport for member `localID`; it connects to nobody until ``setPeers(_:)`` and ``run()``.
    ///
    /// - Parameters:
    ///   - localID: this member's Raft id.
    ///   - configuration: queue length, backoff and wire limits.
    ///   - metrics: the registry the transport's counters are added to.
    ///   - logger: connection failures are logged at debug, recoveries at info.
    /// mTLS to the peers when configured.
    let tls: GRPCTLS?

    public init(
        localID: NodeID, configuration: RaftTransportConfiguration = RaftTransportConfiguration(),
        metrics: MetricsRegistry, logger: Logger, tls: GRPCTLS? = nil
    ) {
        self.tls = tls
        self.localID = localID
        self.configuration = configuration
        self.metrics = RaftTransportMetrics(registry: metrics)
        self.logger = logger
        let (stream, continuation) = AsyncStream<PeerOutbox>.makeStream()
        newOutboxStream = stream
        state = Mutex(State(newOutboxes: continuation))
    }

    /// Sets the address (`host:port` of its gRPC server) of every peer this member talks to.
    ///
    /// Peers not listed are disconnected and their queued messages dropped; a peer whose address changed
    /// is reconnected to the new one; new peers are connected. This member's own id is ignored.
    ///
    /// - Throws: ``RaftTransportError/invalidPeerAddress(_:)`` for an address that does not parse; the
    ///   peer set is then left unchanged.
    public func setPeers(_ peers: [NodeID: String]) throws(RaftTransportError) {
        for address in peers.values { _ = try PeerAddress(parsing: address) }
        let closed = state.withLock { state -> [PeerOutbox] in
            var closed: [PeerOutbox] = []
            for (id, outbox) in state.outboxes where peers[id] != outbox.address {
                closed.append(outbox)
                state.outboxes[id] = nil
            }
            guard !state.isShutDown else { return closed }
            for (id, address) in peers where id != localID && state.outboxes[id] == nil {
                let outbox = PeerOutbox(
                    address: address, capacity: configuration.maxQueuedMessagesPerPeer,
                    capacityBytes: configuration.maxQueuedBytesPerPeer)
                state.outboxes[id] = outbox
                state.newOutboxes?.yield(outbox)
            }
            return closed
        }
        for outbox in closed { metrics.droppedClosed.increment(by: Int64(outbox.close())) }
    }

    /// The peers this transport currently knows, with their addresses.
    public var peers: [NodeID: String] {
        state.withLock { $0.outboxes.mapValues(\.address) }
    }

    /// Queues each message for its recipient; never blocks.
    public func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        var byPeer: [NodeID: [Message]] = [:]
        for message in messages { byPeer[message.to, default: []].append(message) }
        let outboxes = state.withLock { $0.outboxes }
        for (peer, batch) in byPeer {
            guard let outbox = outboxes[peer] else {
                metrics.droppedUnknownPeer.increment(by: Int64(batch.count))
                continue
            }
            let dropped = outbox.enqueue(batch)
            if dropped > 0 { metrics.droppedQueueFull.increment(by: Int64(dropped)) }
        }
    }

    /// Runs every peer's stream until ``shutdown()`` or graceful shutdown of the service group.
    ///
    /// Call at most once. Returns after every gRPC client has stopped.
    public func run() async {
        let firstRun = state.withLock { state in
            defer { state.hasRun = true }
            return !state.hasRun
        }
        precondition(firstRun, "GRPCRaftTransport.run() was called twice; run one transport once")
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await outbox in newOutboxStream {
                    group.addTask { await self.serve(outbox) }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Closes every peer's stream and drops what is still queued; ``run()`` returns once all have stopped.
    ///
    /// Later ``send(_:)`` calls drop their messages as addressed to unknown peers.
    public func shutdown() {
        let (outboxes, continuation) = state.withLock { state in
            state.isShutDown = true
            defer {
                state.outboxes = [:]
                state.newOutboxes = nil
            }
            return (Array(state.outboxes.values), state.newOutboxes)
        }
        continuation?.finish()
        for outbox in outboxes { metrics.droppedClosed.increment(by: Int64(outbox.close())) }
    }

    /// Drives one peer's stream until its outbox is closed.
    private func serve(_ outbox: PeerOutbox) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await outbox.waitUntilClosed() }
            group.addTask { await self.maintainStream(to: outbox) }
            await group.next()
            group.cancelAll()
        }
    }
}
