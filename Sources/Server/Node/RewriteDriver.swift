import Logging
import ServiceLifecycle

/// Drives a running rewrite on whichever node leads: proposes its chunks one after another at the run's rate
/// (``ReplicatedNode/advanceRewrite()``), and otherwise checks every `idleInterval` whether one is running.
struct RewriteDriver: Service {
    let node: ReplicatedNode
    let idleInterval: Duration

    init(node: ReplicatedNode, idleInterval: Duration = .milliseconds(500)) {
        self.node = node
        self.idleInterval = idleInterval
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let pause = await node.advanceRewrite() ?? idleInterval
            if pause > .zero { try await Task.sleep(for: pause) } else { await Task.yield() }
        }
    }
}
