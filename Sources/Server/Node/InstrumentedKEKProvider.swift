import Encryption

/// Measures the KEK provider for operators (a remote KMS or HSM makes this matter):
/// `elastickv_encryption_kek_unwrap_seconds` times every unwrap,
/// `elastickv_encryption_kek_operations_total{operation, outcome}` counts wraps, unwraps and reloads that
/// worked or failed, and `elastickv_encryption_kek_provider_up` is 1 when the last call worked, 0 when it
/// failed (NaN before the first), each labelled with the kek (its URI without query: `file:/etc/ekv/kek`,
/// `aws-kms:alias/ekv`). Errors pass through unchanged; no key material is recorded.
struct InstrumentedKEKProvider: KEKProvider, KEKReloading {
    enum Operation: String, CaseIterable { case wrap, unwrap, reload }

    let base: any KEKProvider
    let unwrapSeconds: MetricHistogram
    let up: MetricGauge
    private let operations: [Operation: (ok: MetricCounter, error: MetricCounter)]

    init(_ base: any KEKProvider, metrics: MetricsRegistry, kek: String) {
        self.base = base
        unwrapSeconds = metrics.histogram("elastickv_encryption_kek_unwrap_seconds",
                                          help: "Time to unwrap one DEK with the KEK", labels: ["kek": kek])
        up = metrics.gauge("elastickv_encryption_kek_provider_up",
                           help: "1 when the KEK provider's last call worked, 0 when it failed", labels: ["kek": kek])
        up.set(to: .nan)
        let name = "elastickv_encryption_kek_operations_total"
        let help = "Calls to the KEK provider, by operation and outcome"
        var operations: [Operation: (ok: MetricCounter, error: MetricCounter)] = [:]
        for operation in Operation.allCases {
            operations[operation] = (
                metrics.counter(name, help: help, labels: ["kek": kek, "operation": operation.rawValue, "outcome": "ok"]),
                metrics.counter(name, help: help,
                                labels: ["kek": kek, "operation": operation.rawValue, "outcome": "error"]))
        }
        self.operations = operations
    }

    func reload() throws {
        guard let reloading = base as? any KEKReloading else { return }
        try measured(.reload) { try reloading.reload() }
    }

    var kekID: String? { base.kekID }

    func providerHealth() -> [KEKProviderHealth] { base.providerHealth() }

    func probe() { base.probe() }

    func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try measured(.wrap) { try base.wrap(key) }
    }

    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        let start = ContinuousClock.now
        defer {
            let elapsed = (ContinuousClock.now - start).components
            unwrapSeconds.record(Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
        }
        return try measured(.unwrap) { try base.unwrap(wrapped) }
    }

    private func measured<T>(_ operation: Operation, _ body: () throws -> T) throws -> T {
        let counters = operations[operation]!
        do {
            let result = try body()
            counters.ok.increment()
            up.set(to: 1)
            return result
        } catch {
            counters.error.increment()
            up.set(to: 0)
            throw error
        }
    }
}
