import ElastickvAPI
import Foundation
import GRPCCore
import Logging
import Raft

/// The server side of the Raft transport: receives peers' `Deliver` streams and answers forwarded
/// requests.
///
/// Register it on the node's gRPC server, whose `config.rpc.maxRequestPayloadSize` must be at least
/// ``RaftTransportConfiguration/maxRequestPayloadBytes``. Each frame is decoded and handed to `onMessage`
/// (the node steps its core with it); a frame that does not decode, whose header disagrees with the
/// message inside, or that is addressed to another member (a peer with a stale address) is dropped and
/// counted — a peer's bad frame never ends the stream or the process.
/// `Forward` and `ReadIndex` are answered by the injected ``RaftForwardingHandler``.
public struct RaftTransportService: Elastickv_V1_RaftTransport.SimpleServiceProtocol {
    let localID: NodeID
    let wireLimits: WireLimits
    let metrics: RaftTransportMetrics
    let handler: any RaftForwardingHandler
    let onMessage: @Sendable (Message) -> Void
    let logger: Logger
    /// This member's pub/sub subscribers, reached by `Publish` and `PubSubStatus` (none: nothing delivered).
    let pubSub: PubSubHub?

    /// - Parameters:
    ///   - localID: this member's Raft id; frames for other members are dropped.
    ///   - wireLimits: the codec's bounds, the same on every member.
    ///   - metrics: the counters, usually the ones of this node's ``GRPCRaftTransport``.
    ///   - handler: answers `Forward` and `ReadIndex`.
    ///   - logger: rejected frames are logged at debug.
    ///   - onMessage: called once per received message, on the stream's task; it must not block.
    public init(
        localID: NodeID, wireLimits: WireLimits = .defaults, metrics: RaftTransportMetrics,
        handler: any RaftForwardingHandler, pubSub: PubSubHub? = nil,
        logger: Logger, onMessage: @escaping @Sendable (Message) -> Void
    ) {
        self.pubSub = pubSub
        self.localID = localID
        self.wireLimits = wireLimits
        self.metrics = metrics
        self.handler = handler
        self.logger = logger
        self.onMessage = onMessage
    }

    /// Hands every frame of a peer's stream to `onMessage` until the peer ends the stream or the RPC is
    /// cancelled (the peer went away, or this server began a graceful shutdown, which would otherwise wait
    /// for the peer's never-ending stream).
    public func deliver(
        request: RPCAsyncSequence<Elastickv_V1_RaftFrame, any Error>, context: ServerContext
    ) async throws -> Elastickv_V1_DeliverSummary {
        let delivered = FrameTally()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await context.cancellation.cancelled }
            group.addTask { try? await self.receive(request, counting: delivered) }
            await group.next()
            group.cancelAll()
        }
        var summary = Elastickv_V1_DeliverSummary()
        summary.frames = delivered.value
        return summary
    }

    private func receive(
        _ frames: RPCAsyncSequence<Elastickv_V1_RaftFrame, any Error>, counting delivered: FrameTally
    ) async throws {
        for try await frame in frames {
            guard let message = decode(frame) else { continue }
            onMessage(message)
            metrics.receivedFrames.increment()
            delivered.increment()
        }
    }

    /// The frame's message, or `nil` (counted) when it does not decode or disagrees with the frame header.
    func decode(_ frame: Elastickv_V1_RaftFrame) -> Message? {
        do {
            let message = try MessageWireCodec.decode([UInt8](frame.message), limits: wireLimits)
            guard message.from == frame.from, message.to == frame.to, message.to == localID else {
                metrics.rejectedFrames.increment()
                logger.debug(
                    "raft frame misaddressed or header disagrees with its message",
                    metadata: ["from": "\(frame.from)", "to": "\(message.to)"])
                return nil
            }
            return message
        } catch {
            metrics.rejectedFrames.increment()
            logger.debug("raft frame rejected: \(error)", metadata: ["from": "\(frame.from)"])
            return nil
        }
    }

    public func forward(
        request: Elastickv_V1_ForwardRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ForwardResponse {
        var response = Elastickv_V1_ForwardResponse()
        switch await handler.forward(payload: [UInt8](request.payload)) {
        case .applied(let index, let term, let result):
            response.index = index
            response.term = term
            response.result = Data(result)
        case .refused(let refusal):
            response.error = refusal.reason
            response.leaderID = refusal.leaderID ?? 0
            response.leaderAddr = refusal.leaderAddress ?? ""
        }
        return response
    }

    public func publish(
        request: Elastickv_V1_PublishRequest, context: ServerContext
    ) async throws -> Elastickv_V1_PublishResponse {
        var response = Elastickv_V1_PublishResponse()
        let receivers = pubSub?.deliver(channel: [UInt8](request.channel), message: [UInt8](request.message),
                                        sharded: request.sharded) ?? 0
        response.receivers = UInt64(receivers)
        return response
    }

    public func pubSubStatus(
        request: Elastickv_V1_PubSubStatusRequest, context: ServerContext
    ) async throws -> Elastickv_V1_PubSubStatusResponse {
        let channels = request.channels.map { [UInt8]($0) }
        let status = pubSub?.status(sharded: request.sharded, pattern: request.hasPattern_p ? [UInt8](request.pattern) : nil,
                                    channels: channels)
            ?? PubSubStatus(channels: [], counts: channels.map { _ in 0 }, patterns: [])
        var response = Elastickv_V1_PubSubStatusResponse()
        response.channels = status.channels.sorted { $0.lexicographicallyPrecedes($1) }.map { Data($0) }
        response.subscribers = status.counts.map { UInt64($0) }
        response.patterns = status.patterns.sorted { $0.lexicographicallyPrecedes($1) }.map { Data($0) }
        return response
    }

    public func readIndex(
        request: Elastickv_V1_ReadIndexRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ReadIndexResponse {
        var response = Elastickv_V1_ReadIndexResponse()
        switch await handler.readIndex() {
        case .index(let index):
            response.index = index
        case .refused(let refusal):
            response.error = refusal.reason
            response.leaderID = refusal.leaderID ?? 0
            response.leaderAddr = refusal.leaderAddress ?? ""
        }
        return response
    }
}
