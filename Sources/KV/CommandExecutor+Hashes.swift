import Storage

extension CommandExecutor {
    /// The live hash at `key` (empty when missing) and its expiry; `nil` when the key holds another type.
    func liveHash(_ key: [UInt8]) throws(StorageError) -> (fields: [[UInt8]: [UInt8]], expireAt: UInt64)? {
        guard let current = try live(key) else { return ([:], 0) }
        guard case .hash(let fields) = current.value else { return nil }
        return (fields, current.expireAtMillis)
    }

    func hashSet(_ key: [UInt8], _ pairs: [Command.KeyValue], _ ts: UInt64) throws(StorageError) -> CommandResult {
        guard let hash = try liveHash(key) else { return .error(.wrongType) }
        var fields = hash.fields
        let expireAt = hash.expireAt
        var added: Int64 = 0
        for pair in pairs {
            if fields.updateValue(pair.value, forKey: pair.key) == nil { added += 1 }
        }
        try write(key, .hash(fields), expireAt: expireAt, ts: ts)
        return .integer(added)
    }

    func hashDelete(_ key: [UInt8], _ names: [[UInt8]], _ ts: UInt64) throws(StorageError) -> CommandResult {
        guard let hash = try liveHash(key) else { return .error(.wrongType) }
        var fields = hash.fields
        let expireAt = hash.expireAt
        var removed: Int64 = 0
        for name in names where fields.removeValue(forKey: name) != nil { removed += 1 }
        guard removed > 0 else { return .integer(0) }
        if fields.isEmpty { try delete(key, ts: ts) } else {
            try write(key, .hash(fields), expireAt: expireAt, ts: ts)
        }
        return .integer(removed)
    }

    func hashIncrementByFloat(_ key: [UInt8], _ field: [UInt8], _ delta: Double, _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        guard delta.isFinite else { return .error(.nanOrInfinity) }
        guard let hash = try liveHash(key) else { return .error(.wrongType) }
        var fields = hash.fields
        let text: [UInt8]
        switch Self.addFloat(delta, to: fields[field], unparsable: .hashValueNotAFloat) {
        case .sum(let sum): text = sum
        case .failure(let error): return .error(error)
        }
        fields[field] = text
        try write(key, .hash(fields), expireAt: hash.expireAt, ts: ts)
        return .bulk(text)
    }

    func hashIncrementBy(_ key: [UInt8], _ field: [UInt8], _ delta: Int64, _ ts: UInt64) throws(StorageError)
        -> CommandResult
    {
        guard let hash = try liveHash(key) else { return .error(.wrongType) }
        var fields = hash.fields
        let expireAt = hash.expireAt
        var base: Int64 = 0
        if let existing = fields[field] {
            guard let parsed = RedisNumber.parseInteger(existing) else { return .error(.hashValueNotAnInteger) }
            base = parsed
        }
        let (sum, overflow) = base.addingReportingOverflow(delta)
        guard !overflow else { return .error(.overflow) }
        fields[field] = Array(String(sum).utf8)
        try write(key, .hash(fields), expireAt: expireAt, ts: ts)
        return .integer(sum)
    }
}
