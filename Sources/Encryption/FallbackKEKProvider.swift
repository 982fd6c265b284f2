/// Unwraps with the current KEK, or with the previous one, during a KEK change.
///
/// Between replacing a member's KEK and committing `rewrap-deks`, its sidecar still holds keys wrapped under the
/// previous KEK; with `--previous-kek-file` the member can restart in that window, and a member that applies
/// the rewrap entry late can still read its old keys. New keys are always wrapped under the current KEK.
public struct FallbackKEKProvider: KEKProvider, KEKReloading {
    public let current: any KEKProvider
    public let previous: any KEKProvider

    public init(current: any KEKProvider, previous: any KEKProvider) {
        self.current = current
        self.previous = previous
    }

    public func reload() throws {
        try (current as? any KEKReloading)?.reload()
    }

    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try current.wrap(key)
    }

    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        do { return try current.unwrap(wrapped) } catch {
            guard let key = try? previous.unwrap(wrapped) else { throw error }
            return key
        }
    }
}
