import Encryption
import Foundation
import Logging
import ServiceLifecycle

/// Probes the node's remote KEK providers on a fixed interval, so `encryption status` and
/// `elastickv_encryption_kek_provider_up` show an outage (and the recovery) while no key operation runs.
///
/// A probe wraps a throwaway DEK through each remote provider's retry policy; it runs on a thread of its own,
/// since provider calls block for up to their deadlines. A state change is logged once per change.
struct KEKHealthProbe: Service {
    let provider: any KEKProvider
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var last: [String: KEKProviderHealth.State] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try await Task.sleep(for: interval)
            let provider = provider
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    provider.probe()
                    done.resume()
                }
            }
            for health in provider.providerHealth() where last[health.kekID] != health.state {
                if last[health.kekID] != nil || health.state != .up {
                    logger.notice("KEK provider state changed", metadata: [
                        "kek": "\(health.kekID)", "state": "\(health.state.rawValue)",
                        "error": "\(health.lastError ?? "-")",
                    ])
                }
                last[health.kekID] = health.state
            }
        }
    }
}
