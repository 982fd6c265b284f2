import Storage

/// Reads Redis values from the store as of the last applied entry.
///
/// Linearizability is the caller's concern (wait for a ReadIndex to be applied first); this type decodes.
public struct KVReader: Sendable {
    public let store: MVCCStore
    public let elementIndexes: ElementIndexes
    /// The database lookups and key walks read (0 unless ``inDatabase(_:)`` chose another).
    public private(set) var database: UInt8 = 0

    public init(store: MVCCStore, elementIndexes: ElementIndexes = ElementIndexes()) {
        self.store = store
        self.elementIndexes = elementIndexes
    }

    /// A live value and its expiry (0 = none).
    public struct Entry: Hashable, Sendable {
        public var value: RedisValue
        public var expireAtMillis: UInt64
    }

    /// The live value of `key` for a reader whose clock reads `nowMillis`; `nil` when absent or expired.
    public func lookup(_ key: [UInt8], nowMillis: UInt64) throws(StorageError) -> Entry? {
        guard let version = try store.get(RedisKeyspace.primary(key, database: database), nowMillis: nowMillis) else {
            return nil
        }
        do throws(KVError) {
            return Entry(value: try RedisValue(decoding: version.body), expireAtMillis: version.expireAtMillis)
        } catch {
            throw StorageError.corruptRecord(reason: error.description)
        }
    }

    /// Live keys at or after `start`, in byte order, at most `limit`.
    public func keys(from start: [UInt8], limit: Int, nowMillis: UInt64) throws(StorageError) -> [[UInt8]] {
        try store.scan(from: RedisKeyspace.primary(start, database: database),
                       to: RedisKeyspace.primaryEnd(database: database), nowMillis: nowMillis, limit: limit)
            .compactMap { RedisKeyspace.userKey(ofPrimary: $0.key, database: database) }
    }

    public func elementRows(of generation: UInt64, from: [UInt8], to: [UInt8]?, limit: Int) throws(StorageError)
        -> [(part: [UInt8], body: [UInt8])]
    {
        try store.scan(from: RedisKeyspace.element(generation, from),
                       to: to.map { RedisKeyspace.element(generation, $0) } ?? RedisKeyspace.generationEnd(generation),
                       nowMillis: 0, limit: limit)
            .map { (Array(RedisKeyspace.elementPart(of: $0.key, generation: generation) ?? []), $0.body) }
    }

    public func elementRow(of generation: UInt64, part: [UInt8]) throws(StorageError) -> [UInt8]? {
        try store.get(RedisKeyspace.element(generation, part), nowMillis: 0)?.body
    }

    /// The newest version of `key`'s row as last committed, tombstones and expired versions included (WATCH
    /// records it); `nil` when the key never had one.
    public func newestVersion(of key: [UInt8]) throws(StorageError) -> StoredVersion? {
        try store.latestVersion(of: RedisKeyspace.primary(key, database: database))
    }

    public func inDatabase(_ database: UInt8) -> KVReader {
        var reader = self
        reader.database = database
        return reader
    }
}
