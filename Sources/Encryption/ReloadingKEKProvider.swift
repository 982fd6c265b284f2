import Synchronization

/// A KEK provider whose KEK source can be read again while the node runs.
public protocol KEKReloading {
    /// Reads the KEK source again and uses it from now on.
    ///
    /// - Throws: what reading the source throws; the previous KEK stays in use.
    func reload() throws
}

/// A KEK provider that can pick up a replaced KEK while the node runs, for `rewrap-deks`.
///
/// Changing the KEK is two steps: the operator replaces the KEK source (the `--kek-file` contents) on every
/// member, then runs `rewrap-deks`. The leader reloads before it wraps, so the entry carries keys wrapped under
/// the new KEK; a follower whose current KEK does not unwrap bytes it is given reloads once and adopts the new
/// KEK when that one unwraps them. Start-up still refuses a KEK that does not unwrap the sidecar.
public final class ReloadingKEKProvider: KEKProvider, KEKReloading {
    /// Reads the KEK source again.
    public typealias Loader = @Sendable () throws -> any KEKProvider

    private let load: Loader
    private let current: Mutex<any KEKProvider>

    /// Uses `initial` until a reload replaces it.
    public init(initial: any KEKProvider, load: @escaping Loader) {
        self.load = load
        current = Mutex(initial)
    }

    private var provider: any KEKProvider { current.withLock { $0 } }

    /// Reads the KEK source again and uses it from now on.
    ///
    /// - Throws: what the loader throws; the previous KEK stays in use.
    public func reload() throws {
        let fresh = try load()
        current.withLock { $0 = fresh }
    }

    public var kekID: String? { provider.kekID }

    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try provider.wrap(key)
    }

    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        let used = provider
        do { return try used.unwrap(wrapped) } catch {
            guard let fresh = try? load(), let key = try? fresh.unwrap(wrapped) else { throw error }
            current.withLock { $0 = fresh }
            return key
        }
    }
}
