import Logging
import Raft
import ServiceLifecycle
import Synchronization

/// Feeds messages received from peers into the node, in arrival order, and keeps the transport's peer
/// addresses in line with the replicated member directory.
public struct NodeNetworking: Service {
    /// How often the directory is compared with the transport's peers.
    public static let peerRefreshInterval: Duration = .seconds(1)
    /// Messages buffered between the gRPC streams and the node; beyond it the newest are dropped (Raft
    /// tolerates loss).
    public static let maxBufferedMessages = 65_536

    let node: ReplicatedNode
    let transport: GRPCRaftTransport
    let inbox: MessageInbox
    let logger: Logger

    /// Creates the networking glue and the callback the Raft gRPC service delivers messages to.
    public static func make(node: ReplicatedNode, transport: GRPCRaftTransport, logger: Logger)
        -> (service: NodeNetworking, onMessage: @Sendable (Message) -> Void)
    {
        let inbox = MessageInbox(capacity: maxBufferedMessages)
        let service = NodeNetworking(node: node, transport: transport, inbox: inbox, logger: logger)
        return (service, { message in inbox.deliver(message) })
    }

    public func run() async throws {
        await node.attachTransport(transport)
        try await runUntilGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // Everything that arrived while the node was busy is stepped as one batch, so a burst of
                    // appends costs one ready (one fsync) instead of one per message.
                    for await _ in inbox.signals { await node.receive(inbox.drain()) }
                }
                group.addTask {
                    var published: [NodeID: String] = [:]
                    let throttle = LogThrottle()
                    while !Task.isCancelled {
                        let peers = await node.peerAddresses()
                        if peers != published {
                            do throws(RaftTransportError) {
                                try transport.setPeers(peers)
                                published = peers
                            } catch {
                                throttle.warning(logger, key: "peers", "peer address refused", metadata: ["error": "\(error)"])
                            }
                        }
                        try? await Task.sleep(for: Self.peerRefreshInterval)
                    }
                }
            }
        }
    }
}

/// Messages received from peers, collected until the node takes them all at once.
final class MessageInbox: Sendable {
    private let pending: Mutex<[Message]>
    private let continuation: AsyncStream<Void>.Continuation
    /// Yields whenever messages may be waiting.
    let signals: AsyncStream<Void>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pending = Mutex([])
        (signals, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a message; beyond `capacity` waiting messages the new one is dropped (Raft retransmits).
    func deliver(_ message: Message) {
        let accepted = pending.withLock { queue in
            guard queue.count < capacity else { return false }
            queue.append(message)
            return true
        }
        if accepted { continuation.yield(()) }
    }

    /// Takes every waiting message, oldest first.
    func drain() -> [Message] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
