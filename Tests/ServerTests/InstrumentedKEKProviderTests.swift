import Encryption
@testable import Server
import Synchronization
import Testing

/// The KEK provider's health as operators see it: calls by outcome, the last outcome, unwrap latency.
@Suite struct InstrumentedKEKProviderTests {
    /// Wraps by prefixing a tag; fails every call while `failing` is set, as a KMS that went away would.
    final class SwitchableKEK: KEKProvider, KEKReloading {
        struct Down: Error {}
        let failing = Atomic<Bool>(false)
        let reloads = Atomic<Int>(0)

        func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
            if failing.load(ordering: .relaxed) { throw Down() }
            return [0xEE] + key.secret.withUnsafeBytes { Array($0) }
        }

        func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
            if failing.load(ordering: .relaxed) { throw Down() }
            return try DataEncryptionKey(bytes: wrapped.dropFirst())
        }

        func reload() throws {
            if failing.load(ordering: .relaxed) { throw Down() }
            reloads.add(1, ordering: .relaxed)
        }
    }

    static func calls(_ metrics: MetricsRegistry, _ operation: String, _ outcome: String) -> Double? {
        metrics.sample("elastickv_encryption_kek_operations_total",
                       labels: ["kek": "file:/kek", "operation": operation, "outcome": outcome])
    }

    @Test func everySeriesExistsBeforeTheFirstCallAndUpIsUnknown() {
        let metrics = MetricsRegistry()
        _ = InstrumentedKEKProvider(SwitchableKEK(), metrics: metrics, kek: "file:/kek")
        for operation in ["wrap", "unwrap", "reload"] {
            #expect(Self.calls(metrics, operation, "ok") == 0)
            #expect(Self.calls(metrics, operation, "error") == 0)
        }
        #expect(metrics.sample("elastickv_encryption_kek_provider_up", labels: ["kek": "file:/kek"])?.isNaN == true)
    }

    @Test func failuresAreCountedPassThroughAndTurnUpToZeroUntilACallWorks() throws {
        let metrics = MetricsRegistry()
        let base = SwitchableKEK()
        let provider = InstrumentedKEKProvider(base, metrics: metrics, kek: "file:/kek")
        let key = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(key)
        #expect(try provider.unwrap(wrapped).secret.withUnsafeBytes { Array($0) }
            == key.secret.withUnsafeBytes { Array($0) })
        try provider.reload()
        #expect(base.reloads.load(ordering: .relaxed) == 1)
        #expect(metrics.sample("elastickv_encryption_kek_provider_up", labels: ["kek": "file:/kek"]) == 1)

        base.failing.store(true, ordering: .relaxed)
        #expect(throws: SwitchableKEK.Down.self) { try provider.unwrap(wrapped) }
        #expect(throws: SwitchableKEK.Down.self) { try provider.reload() }
        #expect(metrics.sample("elastickv_encryption_kek_provider_up", labels: ["kek": "file:/kek"]) == 0)
        #expect(Self.calls(metrics, "unwrap", "error") == 1)
        #expect(Self.calls(metrics, "reload", "error") == 1)
        #expect(metrics.sample("elastickv_encryption_kek_unwrap_seconds_count", labels: ["kek": "file:/kek"]) == 2, "failed unwraps are timed too")

        base.failing.store(false, ordering: .relaxed)
        _ = try provider.wrap(key)
        #expect(metrics.sample("elastickv_encryption_kek_provider_up", labels: ["kek": "file:/kek"]) == 1)
        #expect(Self.calls(metrics, "wrap", "ok") == 2)
        #expect(Self.calls(metrics, "unwrap", "ok") == 1)
    }
}
