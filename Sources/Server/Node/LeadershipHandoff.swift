import Logging
import ServiceLifecycle

/// A lifecycle service whose only job is at shutdown: a stopping leader hands leadership off first.
///
/// The node runtime lists it last, and a `ServiceGroup` shuts services down in reverse order, so the hand-off
/// runs while the transport, the gRPC server and the Redis listener still serve; in-flight writes commit on
/// the way (the successor must catch up before it takes over).
struct LeadershipHandoff: Service {
    let node: ReplicatedNode
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        logger.info("shutting down")
        _ = await node.handOffLeadership()
    }
}
