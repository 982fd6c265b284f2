import Storage

extension CommandExecutor {
    /// The hash at `key` as a write sees it.
    enum HashLookup {
        case missing
        case wrongType
        case hash(HashHeader, expireAt: UInt64)
    }

    /// The hash at `key` for a command that may add fields: missing becomes a new hash of generation `ts`;
    /// a hash still named with an older index first moves to the current one (as sets do).
    func liveHashForWriting(_ key: [UInt8], _ ts: UInt64) throws(StorageError) -> (HashHeader, expireAt: UInt64)? {
        guard let current = try live(key) else {
            return (HashHeader(generation: ts, indexKeyID: indexes.current.keyID, count: 0), 0)
        }
        guard case .hash(let header) = current.value else { return nil }
        let index = indexes.current
        guard header.indexKeyID != index.keyID, index.keyID != 0 else { return (header, current.expireAtMillis) }
        var moved = HashHeader(generation: ts, indexKeyID: index.keyID, count: 0)
        for (field, value) in try hashFields(header) { _ = try putField(field, value, in: &moved, ts) }
        try write(key, .hash(moved), expireAt: current.expireAtMillis, ts: ts)
        return (moved, current.expireAtMillis)
    }

    /// Sets `field` to `value`; whether the field is new.
    func putField(_ field: [UInt8], _ value: [UInt8], in header: inout HashHeader, _ ts: UInt64)
        throws(StorageError) -> Bool
    {
        let isNew = try hashValue(header, field) == nil
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, try memberPart(header, field)),
                                          commitTS: ts, body: HashField.encode(field, value)))
        if isNew { header.count += 1 }
        return isNew
    }

    /// Writes the hash's metadata, or deletes the key when the hash is empty.
    func storeHash(_ key: [UInt8], _ header: HashHeader, expireAt: UInt64, _ ts: UInt64) throws(StorageError) {
        if header.count == 0 { try delete(key, ts: ts) } else { try write(key, .hash(header), expireAt: expireAt, ts: ts) }
    }

    func hashSet(_ key: [UInt8], _ pairs: [Command.KeyValue], _ ts: UInt64) throws(StorageError) -> CommandResult {
        guard var (header, expireAt) = try liveHashForWriting(key, ts) else { return .error(.wrongType) }
        var added: Int64 = 0
        for pair in pairs where try putField(pair.key, pair.value, in: &header, ts) { added += 1 }
        try storeHash(key, header, expireAt: expireAt, ts)
        return .integer(added)
    }

    func hashSetIfAbsent(_ key: [UInt8], _ field: [UInt8], _ value: [UInt8], _ ts: UInt64) throws(StorageError)
        -> CommandResult
    {
        guard var (header, expireAt) = try liveHashForWriting(key, ts) else { return .error(.wrongType) }
        guard try hashValue(header, field) == nil else { return .integer(0) }
        _ = try putField(field, value, in: &header, ts)
        try storeHash(key, header, expireAt: expireAt, ts)
        return .integer(1)
    }

    func hashDelete(_ key: [UInt8], _ names: [[UInt8]], _ ts: UInt64) throws(StorageError) -> CommandResult {
        guard let current = try live(key) else { return .integer(0) }
        guard case .hash(var header) = current.value else { return .error(.wrongType) }
        var removed: Int64 = 0
        for name in Set(names) where try hashValue(header, name) != nil {
            try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, try memberPart(header, name)),
                                              commitTS: ts, isTombstone: true))
            header.count -= 1
            removed += 1
        }
        guard removed > 0 else { return .integer(0) }
        try storeHash(key, header, expireAt: current.expireAtMillis, ts)
        return .integer(removed)
    }

    func hashIncrementByFloat(_ key: [UInt8], _ field: [UInt8], _ delta: Double, _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        guard delta.isFinite else { return .error(.nanOrInfinity) }
        guard var (header, expireAt) = try liveHashForWriting(key, ts) else { return .error(.wrongType) }
        let text: [UInt8]
        switch Self.addFloat(delta, to: try hashValue(header, field), unparsable: .hashValueNotAFloat) {
        case .sum(let sum): text = sum
        case .failure(let error): return .error(error)
        }
        _ = try putField(field, text, in: &header, ts)
        try storeHash(key, header, expireAt: expireAt, ts)
        return .bulk(text)
    }

    func hashIncrementBy(_ key: [UInt8], _ field: [UInt8], _ delta: Int64, _ ts: UInt64) throws(StorageError)
        -> CommandResult
    {
        guard var (header, expireAt) = try liveHashForWriting(key, ts) else { return .error(.wrongType) }
        var base: Int64 = 0
        if let existing = try hashValue(header, field) {
            guard let parsed = RedisNumber.parseInteger(existing) else { return .error(.hashValueNotAnInteger) }
            base = parsed
        }
        let (sum, overflow) = base.addingReportingOverflow(delta)
        guard !overflow else { return .error(.overflow) }
        _ = try putField(field, Array(String(sum).utf8), in: &header, ts)
        try storeHash(key, header, expireAt: expireAt, ts)
        return .integer(sum)
    }
}
