import Encryption

/// Times every DEK unwrap for `elastickv_encryption_kek_unwrap_seconds` (a remote KMS makes this matter).
struct TimedKEKProvider: KEKProvider, KEKReloading {
    let base: any KEKProvider
    let unwrapSeconds: Histogram

    init(_ base: any KEKProvider, metrics: MetricsRegistry) {
        self.base = base
        unwrapSeconds = metrics.histogram("elastickv_encryption_kek_unwrap_seconds",
                                          help: "Time to unwrap one DEK with the KEK")
    }

    func reload() throws {
        try (base as? any KEKReloading)?.reload()
    }

    func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try base.wrap(key)
    }

    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        let start = ContinuousClock.now
        defer {
            let elapsed = (ContinuousClock.now - start).components
            unwrapSeconds.observe(Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
        }
        return try base.unwrap(wrapped)
    }
}
