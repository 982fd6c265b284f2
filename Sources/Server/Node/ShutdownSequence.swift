import Logging
import ServiceLifecycle

/// A lifecycle service whose only job is at shutdown, in this order: the Redis listener drains (no new
/// connections or requests; requests being executed are answered, bounded by its drain timeout), then a
/// stopping leader hands leadership off.
///
/// The node runtime lists it last, and a `ServiceGroup` shuts services down in reverse order, so both steps
/// run while the node, the transport and the gRPC server still serve: drained writes commit, and the
/// successor catches up before it takes over. The services that stop after it find nothing in flight.
struct ShutdownSequence: Service {
    let node: ReplicatedNode
    let redis: RedisServer
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        logger.info("shutting down")
        let unfinished = await redis.drain(within: redis.configuration.drainTimeout)
        if unfinished == 0 { logger.info("redis connections drained") }
        _ = await node.handOffLeadership()
    }
}
