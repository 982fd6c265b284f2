import Logging
import Raft
import ServiceLifecycle

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
    let inbox: AsyncStream<Message>
    let logger: Logger

    /// Creates the networking glue and the callback the Raft gRPC service delivers messages to.
    public static func make(node: ReplicatedNode, transport: GRPCRaftTransport, logger: Logger)
        -> (service: NodeNetworking, onMessage: @Sendable (Message) -> Void)
    {
        let (stream, continuation) = AsyncStream<Message>.makeStream(
            bufferingPolicy: .bufferingOldest(maxBufferedMessages))
        let service = NodeNetworking(node: node, transport: transport, inbox: stream, logger: logger)
        return (service, { message in continuation.yield(message) })
    }

    public func run() async throws {
        await node.attachTransport(transport)
        try await runUntilGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await message in inbox { await node.receive(message) }
                }
                group.addTask {
                    var published: [NodeID: String] = [:]
                    while !Task.isCancelled {
                        let peers = await node.peerAddresses()
                        if peers != published {
                            do throws(RaftTransportError) {
                                try transport.setPeers(peers)
                                published = peers
                            } catch {
                                logger.warning("peer address refused", metadata: ["error": "\(error)"])
                            }
                        }
                        try? await Task.sleep(for: Self.peerRefreshInterval)
                    }
                }
            }
        }
    }
}
