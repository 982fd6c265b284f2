import ControlPlane
import Encryption
import Foundation
import Logging
import ServiceLifecycle

/// Rotates a sealing purpose's DEK when the cluster's rotation policy says it is due (DESIGN §4).
///
/// Every `interval` the node is asked which purposes are due (only a leader of a bootstrapped cluster answers
/// any; see ``ReplicatedNode/rotationsDue(nowUnixSeconds:)``) and rotates each through the same path as
/// `encryption rotate-dek`, so the capability checks and the one-mutator-at-a-time rule hold. A rotation that
/// fails (another operation running, a member not capable, leadership moving) is retried with a growing pause
/// of up to ``maximumBackoff``; the failure is logged once per streak. Every rotation is logged and counted in
/// `elastickv_encryption_automatic_rotations_total{purpose,reason}`. With the policy's `rewriteAfterRotate`, a
/// storage rotation is followed by `encryption rewrite` at its default rate.
struct AutomaticRotation: Service {
    let node: ReplicatedNode
    let interval: Duration
    let metrics: MetricsRegistry?
    let logger: Logger
    let nowUnixSeconds: @Sendable () -> UInt64

    /// The longest pause after failed rotations.
    static let maximumBackoff: Duration = .seconds(30)

    init(node: ReplicatedNode, interval: Duration = .seconds(1), metrics: MetricsRegistry?, logger: Logger,
         nowUnixSeconds: @escaping @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970)) }) {
        self.node = node
        self.interval = interval
        self.metrics = metrics
        self.logger = logger
        self.nowUnixSeconds = nowUnixSeconds
    }

    /// Starts the rewrite that follows a storage rotation, retrying while another operation holds the leader.
    private func startRewrite() async {
        for attempt in 1...20 {
            do throws(EncryptionControlError) {
                let started = try await node.startRewrite(rowsPerSecond: nil)
                logger.notice("rewrite after automatic rotation", metadata: ["result": "\(started.summary)"])
                return
            } catch {
                guard case .retryable = error, attempt < 20 else {
                    logger.warning("the rewrite after an automatic rotation did not start; run `encryption rewrite`",
                                   metadata: ["error": "\(error)"])
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func run() async throws {
        var pause = interval
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try await Task.sleep(for: pause)
            pause = interval
            for (purpose, reason) in await node.rotationsDue(nowUnixSeconds: nowUnixSeconds()) {
                do throws(EncryptionControlError) {
                    let change = try await node.rotateDEK(purpose: purpose)
                    logger.notice("automatic DEK rotation", metadata: [
                        "purpose": "\(purpose.rawValue)", "reason": "\(reason)", "index": "\(change.index)",
                        "result": "\(change.summary)",
                    ])
                    metrics?.counter("elastickv_encryption_automatic_rotations_total",
                                     help: "DEK rotations the rotation policy started, by purpose and reason",
                                     labels: ["purpose": purpose.rawValue, "reason": reason.label]).increment(by: Int64(1))
                    failing = false
                    if purpose == .storage, await node.rotationPolicy.rewriteAfterRotate { await startRewrite() }
                } catch {
                    if !failing {
                        logger.warning("automatic DEK rotation failed; retrying", metadata: [
                            "purpose": "\(purpose.rawValue)", "reason": "\(reason)", "error": "\(error)",
                        ])
                    }
                    failing = true
                    pause = min(Self.maximumBackoff, pause * 2)
                }
            }
        }
    }
}
