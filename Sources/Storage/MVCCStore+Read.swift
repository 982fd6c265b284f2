extension MVCCStore {
    /// The last applied Raft index committed to the store.
    public func appliedIndex() throws(StorageError) -> UInt64 {
        try withReader { (database) throws(StorageError) in try Self.readAppliedIndex(database) }
    }

    /// Reads an internal metadata value as last committed.
    public func meta(_ name: String) throws(StorageError) -> [UInt8]? {
        try withReader { (database) throws(StorageError) in try Self.readMeta(database, name) }
    }

    /// The value of `key` visible at `ts` to a reader whose clock reads `nowMillis`.
    ///
    /// That is the newest version with `commit_ts <= ts`, unless it is a tombstone or expired.
    public func get(_ key: [UInt8], at ts: UInt64 = latestTS, nowMillis: UInt64) throws(StorageError)
        -> StoredVersion?
    {
        try Self.checkTimestamp(ts)
        return try withReader { (database) throws(StorageError) -> StoredVersion? in
            let statement = try database.statement(
                "SELECT ts, value FROM kv_versions WHERE key = ?1 AND ts <= ?2 ORDER BY ts DESC LIMIT 1")
            try statement.bind(1, key)
            try statement.bind(2, Int64(ts))
            guard try statement.step() else { return nil }
            let versionTS = UInt64(statement.int64(0))
            let record = statement.bytes(1)
            statement.reset()
            let version = try decodeRecord(record, key: key, commitTS: versionTS)
            return version.isVisible(atMillis: nowMillis) ? version : nil
        }
    }

    /// Visible values with keys in `[start, end)` (no upper bound when `end` is nil), in key order.
    ///
    /// - Parameters:
    ///   - limit: the most keys returned, capped at ``Limits/maxScanKeys``.
    public func scan(from start: [UInt8], to end: [UInt8]?, at ts: UInt64 = latestTS, nowMillis: UInt64,
                     limit: Int) throws(StorageError) -> [StoredVersion]
    {
        try Self.checkTimestamp(ts)
        return try withReader { (database) throws(StorageError) -> [StoredVersion] in
            try scanVisible(database, from: start, to: end, at: ts, nowMillis: nowMillis, limit: limit)
        }
    }

    /// The scan of ``scan(from:to:at:nowMillis:limit:)`` on `database` (a reader, or the write transaction's
    /// connection, which sees its own writes).
    func scanVisible(_ database: SQLiteDatabase, from start: [UInt8], to end: [UInt8]?, at ts: UInt64,
                     nowMillis: UInt64, limit: Int) throws(StorageError) -> [StoredVersion]
    {
        let cap = min(max(limit, 0), limits.maxScanKeys)
        let sql = end == nil
            ? "SELECT key, ts, value FROM kv_versions WHERE key >= ?1 AND ts <= ?2 ORDER BY key, ts DESC"
            : "SELECT key, ts, value FROM kv_versions WHERE key >= ?1 AND key < ?3 AND ts <= ?2 ORDER BY key, ts DESC"
        let statement = try database.statement(sql)
        try statement.bind(1, start)
        try statement.bind(2, Int64(ts))
        if let end { try statement.bind(3, end) }
        defer { statement.reset() }
        var result: [StoredVersion] = []
        var previousKey: [UInt8]?
        while result.count < cap, try statement.step() {
            let key = statement.bytes(0)
            if key == previousKey { continue }
            previousKey = key
            let version = try decodeRecord(statement.bytes(2), key: key, commitTS: UInt64(statement.int64(1)))
            if version.isVisible(atMillis: nowMillis) { result.append(version) }
        }
        return result
    }

    /// The newest version of `key` as last committed, tombstones and expired versions included (WATCH
    /// records it); `nil` when the key has none.
    public func latestVersion(of key: [UInt8]) throws(StorageError) -> StoredVersion? {
        try withReader { (database) throws(StorageError) -> StoredVersion? in try newestVersion(database, key) }
    }

    func newestVersion(_ database: SQLiteDatabase, _ key: [UInt8]) throws(StorageError) -> StoredVersion? {
        let statement = try database.statement(
            "SELECT ts, value FROM kv_versions WHERE key = ?1 ORDER BY ts DESC LIMIT 1")
        try statement.bind(1, key)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try decodeRecord(statement.bytes(1), key: key, commitTS: UInt64(statement.int64(0)))
    }

    /// Every version of `key`, newest first, tombstones included (for tests and tooling).
    public func versions(of key: [UInt8]) throws(StorageError) -> [StoredVersion] {
        try withReader { (database) throws(StorageError) -> [StoredVersion] in
            let statement = try database.statement("SELECT ts, value FROM kv_versions WHERE key = ?1 ORDER BY ts DESC")
            try statement.bind(1, key)
            defer { statement.reset() }
            var result: [StoredVersion] = []
            while try statement.step() {
                result.append(try decodeRecord(statement.bytes(1), key: key, commitTS: UInt64(statement.int64(0))))
            }
            return result
        }
    }
}

extension MVCCStore {
    /// Internal metadata entries whose names start with `prefix`, as last committed, by name.
    public func metaEntries(withPrefix prefix: String) throws(StorageError) -> [(name: String, value: [UInt8])] {
        try withReader { (database) throws(StorageError) -> [(name: String, value: [UInt8])] in
            let statement = try database.statement(
                "SELECT name, value FROM internal_meta WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name")
            try statement.bind(1, prefix)
            defer { statement.reset() }
            var entries: [(name: String, value: [UInt8])] = []
            while try statement.step() { entries.append((statement.text(0), statement.bytes(1))) }
            return entries
        }
    }
}
