extension MVCCStore {
    /// Deletes versions no reader at or after `horizonTS` can see; returns how many rows went.
    ///
    /// For each key, every version older than its newest version at or below the horizon is removed; that
    /// newest one is removed too when it is a tombstone, or expired at `nowMillis` (expiry hides a value from
    /// every later reader). Versions above the horizon are never touched. Garbage collection is node-local:
    /// apply treats tombstones, expired and missing versions alike, so replicas stay equivalent.
    @discardableResult
    public func collectGarbage(horizonTS: UInt64, nowMillis: UInt64) throws(StorageError) -> Int {
        try Self.checkTimestamp(horizonTS)
        return try write { (transaction) throws(StorageError) -> Int in
            let database = transaction.database
            let shadowed = try database.statement("""
                DELETE FROM kv_versions AS v WHERE v.ts <= ?1 AND EXISTS (
                  SELECT 1 FROM kv_versions AS w WHERE w.key = v.key AND w.ts > v.ts AND w.ts <= ?1)
                """)
            try shadowed.bind(1, Int64(horizonTS))
            try shadowed.run()
            var removed = database.changes
            let candidates = try database.statement("SELECT key, ts, value FROM kv_versions WHERE ts <= ?1")
            try candidates.bind(1, Int64(horizonTS))
            var dead: [([UInt8], Int64)] = []
            while try candidates.step() {
                let header = try ValueHeader(decoding: candidates.bytes(2))
                if header.isTombstone || header.isExpired(atMillis: nowMillis) {
                    dead.append((candidates.bytes(0), candidates.int64(1)))
                }
            }
            let delete = try database.statement("DELETE FROM kv_versions WHERE key = ?1 AND ts = ?2")
            for (key, ts) in dead {
                delete.reset()
                try delete.bind(1, key)
                try delete.bind(2, ts)
                try delete.run()
                removed += database.changes
            }
            return removed
        }
    }

    /// Re-encodes one stored version in place (same key, same ts) with the current sealing settings.
    ///
    /// Used to seal versions written in cleartext or under an older DEK. Returns `false` when the version
    /// does not exist.
    @discardableResult
    public func rewriteVersion(key: [UInt8], commitTS: UInt64) throws(StorageError) -> Bool {
        try Self.checkTimestamp(commitTS)
        return try write { (transaction) throws(StorageError) -> Bool in
            let statement = try transaction.database.statement(
                "SELECT value FROM kv_versions WHERE key = ?1 AND ts = ?2")
            try statement.bind(1, key)
            try statement.bind(2, Int64(commitTS))
            guard try statement.step() else { return false }
            let record = statement.bytes(0)
            statement.reset()
            try transaction.put(try decodeRecord(record, key: key, commitTS: commitTS))
            return true
        }
    }
}

extension MVCCStore {
    /// How many stored versions have a body sealed under the storage DEK `keyID`.
    ///
    /// Retiring a storage DEK is refused while any version still needs it. The key id sits in bytes 2–5 of
    /// the envelope (DESIGN §3.2), right after the 9-byte value header.
    public func countVersions(sealedWithKeyID keyID: UInt32) throws(StorageError) -> Int {
        try withReader { (database) throws(StorageError) -> Int in
            let statement = try database.statement("""
                SELECT count(*) FROM kv_versions
                WHERE substr(value, 1, 1) IN (x'02', x'03') AND substr(value, 12, 4) = ?1
                """)
            defer { statement.reset() }
            try statement.bind(1, Self.bigEndianKeyID(keyID))
            guard try statement.step() else { return 0 }
            return Int(statement.int64(0))
        }
    }
}
