import KV
import Storage
import Logging
import ServiceLifecycle

/// Removes expired keys from storage: while this node leads, every `interval` it looks at up to
/// `keysPerSweep` keys from where it stopped before and, when one of them has expired, proposes an expiry
/// sweep entry over them; so every key is visited again after (keys ÷ keysPerSweep) intervals, and an idle
/// cluster commits nothing. Apply decides with the entry's clock, so every
/// replica deletes the same keys; reads never show an expired key in the meantime.
public struct ExpirySweeper: Service {
    let node: ReplicatedNode
    let backend: any RedisBackend
    let interval: Duration
    let keysPerSweep: UInt32
    let logger: Logger

    public init(node: ReplicatedNode, backend: any RedisBackend, interval: Duration = .seconds(1),
                keysPerSweep: UInt32 = 1_000, logger: Logger) {
        precondition((1...Command.maxSweepKeys).contains(keysPerSweep), "a sweep looks at 1…\(Command.maxSweepKeys) keys")
        self.node = node
        self.backend = backend
        self.interval = interval
        self.keysPerSweep = keysPerSweep
        self.logger = logger
    }

    public func run() async throws {
        try await runUntilGracefulShutdown { try await sweep() }
    }

    private func sweep() async throws {
        var cursor: [UInt8] = []
        var failureLogged = false
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            guard node.info.reading.role == "leader", !node.info.reading.halted else { continue }
            // An entry only when the next keys hold an expired one (by this node's reading): an idle cluster
            // commits nothing. Apply decides again with the entry's clock.
            guard let window = try? node.store.scan(from: RedisKeyspace.primaryRows(from: cursor),
                                                    to: RedisKeyspace.primaryRowsEnd, nowMillis: 0,
                                                    limit: Int(keysPerSweep)) else { continue }
            let now = backend.nowMillis()
            guard window.contains(where: { $0.expireAtMillis != 0 && $0.expireAtMillis <= now }) else {
                let full = window.count == Int(keysPerSweep)
                cursor = full ? Array(window.last!.key.dropFirst()) + [0] : []
                continue
            }
            do throws(BackendError) {
                switch try await backend.execute(.sweepExpired(from: cursor, limit: keysPerSweep)) {
                case .bulk(let next): cursor = next
                default: cursor = []
                }
                failureLogged = false
            } catch {
                // Leadership moved or the cluster is busy: sweep again at the next interval.
                if !failureLogged {
                    logger.info("expiry sweep not applied; retrying", metadata: ["reason": "\(error)"])
                    failureLogged = true
                }
            }
        }
    }
}
