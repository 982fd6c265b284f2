import Logging
import RESP
import Raft
import RedisCommands

/// Pub/sub beyond this member: PUBLISH reaches the subscribers of every other member, PUBSUB counts theirs.
public protocol PubSubPeers: Sendable {
    /// Delivers on every other member; the receivers there.
    func publish(channel: [UInt8], message: [UInt8], sharded: Bool) async -> Int
    /// Every other member's PUBSUB answer (the members that answered).
    func status(sharded: Bool, pattern: [UInt8]?, channels: [[UInt8]]) async -> [PubSubStatus]
}

/// The other members over the Raft transport's `Publish` and `PubSubStatus` calls, all at once, each
/// bounded by ``timeout``. A member that does not answer in time counts no receivers (Redis, too, delivers
/// only to the subscribers it can reach): a message is never queued or retried, so it is never stored.
public struct GRPCPubSubPeers: PubSubPeers {
    /// How long one member may take to answer.
    public static let timeout: Duration = .seconds(2)

    let client: RaftForwardingClient
    let peers: @Sendable () async -> [NodeID: String]
    let logger: Logger

    public init(client: RaftForwardingClient, logger: Logger, peers: @escaping @Sendable () async -> [NodeID: String]) {
        self.client = client
        self.logger = logger
        self.peers = peers
    }

    public func publish(channel: [UInt8], message: [UInt8], sharded: Bool) async -> Int {
        let addresses = Array(await peers().values)
        return await withTaskGroup(of: Int.self) { group in
            for address in addresses {
                group.addTask {
                    do throws(RaftForwardingError) {
                        return try await client.publish(channel: channel, message: message, sharded: sharded,
                                                        to: address, timeout: Self.timeout)
                    } catch {
                        // Never the channel or the message: only who could not be reached.
                        logger.debug("a member did not take a published message", metadata: ["member": "\(address)"])
                        return 0
                    }
                }
            }
            return await group.reduce(0, +)
        }
    }

    public func status(sharded: Bool, pattern: [UInt8]?, channels: [[UInt8]]) async -> [PubSubStatus] {
        let addresses = Array(await peers().values)
        return await withTaskGroup(of: PubSubStatus?.self) { group in
            for address in addresses {
                group.addTask {
                    try? await client.pubSubStatus(sharded: sharded, pattern: pattern, channels: channels, from: address,
                                                   timeout: Self.timeout)
                }
            }
            return await group.reduce(into: []) { if let answer = $1 { $0.append(answer) } }
        }
    }
}

extension RedisServer {
    /// PUBLISH, SPUBLISH and PUBSUB … (SUBSCRIBE and UNSUBSCRIBE change the connection's own state, in
    /// ``respond(to:parser:session:closed:mailbox:)``).
    func pubSub(_ command: PubSubCommand) async -> RESPValue {
        switch command {
        case .publish(let channel, let message, let sharded):
            let local = pubSubHub.deliver(channel: channel, message: message, sharded: sharded)
            let remote = await pubSubPeers?.publish(channel: channel, message: message, sharded: sharded) ?? 0
            return .integer(Int64(local + remote))
        case .channels(let pattern, let sharded):
            let status = await clusterStatus(sharded: sharded, pattern: pattern, channels: [])
            return .array(status.channels.sorted { $0.lexicographicallyPrecedes($1) }.map(RESPValue.bulkString))
        case .subscriberCounts(let channels, let sharded):
            let status = await clusterStatus(sharded: sharded, pattern: nil, channels: channels)
            return .array(zip(channels, status.counts).flatMap { [RESPValue.bulkString($0), .integer(Int64($1))] })
        case .patternCount:
            return .integer(Int64(await clusterStatus(sharded: false, pattern: nil, channels: []).patterns.count))
        case .subscribe, .unsubscribe:
            preconditionFailure("subscriptions are the connection's")
        }
    }

    private func clusterStatus(sharded: Bool, pattern: [UInt8]?, channels: [[UInt8]]) async -> PubSubStatus {
        let local = pubSubHub.status(sharded: sharded, pattern: pattern, channels: channels)
        let remote = await pubSubPeers?.status(sharded: sharded, pattern: pattern, channels: channels) ?? []
        return PubSubStatus.merged([local] + remote, channelCount: channels.count)
    }
}
