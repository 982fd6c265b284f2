import Storage

/// Reads Redis values from the store as of the last applied entry.
///
/// Linearizability is the caller's concern (wait for a ReadIndex to be applied first); this type decodes.
public struct KVReader: Sendable {
    public let store: MVCCStore

    public init(store: MVCCStore) {
        self.store = store
    }

    /// A live value and its expiry (0 = none).
    public struct Entry: Hashable, Sendable {
        public var value: RedisValue
        public var expireAtMillis: UInt64
    }

    /// The live value of `key` for a reader whose clock reads `nowMillis`; `nil` when absent or expired.
    public func lookup(_ key: [UInt8], nowMillis: UInt64) throws(StorageError) -> Entry? {
        guard let version = try store.get(key, nowMillis: nowMillis) else { return nil }
        do throws(KVError) {
            return Entry(value: try RedisValue(decoding: version.body), expireAtMillis: version.expireAtMillis)
        } catch {
            throw StorageError.corruptRecord(reason: error.description)
        }
    }

    /// Live keys at or after `start`, in byte order, at most `limit`.
    public func keys(from start: [UInt8], limit: Int, nowMillis: UInt64) throws(StorageError) -> [[UInt8]] {
        try store.scan(from: start, to: nil, nowMillis: nowMillis, limit: limit).map(\.key)
    }
}
