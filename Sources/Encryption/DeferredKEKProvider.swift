import Synchronization

/// A provider whose construction failed because its service was unavailable; it is made on first use.
///
/// A KMS plugin that is down, or an HSM token not yet present, must not stop a node that has a second KEK from
/// starting, nor stop the first one from being used once it is back. Every call tries to make the provider
/// until one attempt works; a failure is reported as ``KEKProviderError/unavailable(provider:reason:)``, so the
/// retry policy and circuit breaker in front of it treat it as the outage it is.
public final class DeferredKEKProvider: KEKProvider {
    public typealias Make = @Sendable () throws -> any KEKProvider

    private let name: String
    private let make: Make
    private let made = Mutex<(any KEKProvider)?>(nil)

    public init(name: String, make: @escaping Make) {
        self.name = name
        self.make = make
    }

    private func provider() throws -> any KEKProvider {
        if let provider = made.withLock({ $0 }) { return provider }
        let fresh: any KEKProvider
        do { fresh = try make() } catch let error as KEKProviderError {
            throw error
        } catch {
            throw KEKProviderError.unavailable(provider: name, reason: "\(error)")
        }
        return made.withLock { current in
            if let current { return current }
            current = fresh
            return fresh
        }
    }

    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] { try provider().wrap(key) }

    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey { try provider().unwrap(wrapped) }

    public var kekID: String? { made.withLock { $0 }?.kekID }

    public var checkValue: String? { name }

    public func probe() {
        guard let provider = try? provider() else { return }
        provider.probe()
    }
}
