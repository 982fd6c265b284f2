import ServiceLifecycle

/// Drives a node's logical clock: one `tick()` per tick interval until shutdown.
public struct NodeTicker: Service {
    let node: ReplicatedNode
    let interval: Duration

    public init(node: ReplicatedNode, interval: Duration) {
        self.node = node
        self.interval = interval
    }

    public func run() async throws {
        await node.campaignIfSoleVoter()
        try await runUntilGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await node.tick()
            }
        }
    }
}
