import DurableIO

/// The write side of one store transaction: versions, applied index, internal tables.
///
/// Obtained from ``MVCCStore/write(_:)``; valid only inside that closure. Reads through a transaction see
/// its own uncommitted writes, so a batch of commands applies as if one by one.
public struct WriteTransaction {
    let store: MVCCStore
    let database: SQLiteDatabase
    let sealTally = SealTally()

    init(store: MVCCStore, database: SQLiteDatabase) {
        self.store = store
        self.database = database
    }

    /// The newest version of `key`, tombstones and expired versions included; `nil` when the key has none.
    public func latestVersion(of key: [UInt8]) throws(StorageError) -> StoredVersion? {
        try store.runStepHook("select latest")
        return try store.newestVersion(database, key)
    }

    /// Visible values with keys in `[start, end)` (no upper bound when `end` is nil), in key order, at most
    /// `limit`, this transaction's own writes included.
    public func scan(from start: [UInt8], to end: [UInt8]? = nil, nowMillis: UInt64, limit: Int) throws(StorageError)
        -> [StoredVersion]
    {
        try store.runStepHook("scan")
        return try store.scanVisible(database, from: start, to: end, at: MVCCStore.latestTS, nowMillis: nowMillis,
                                     limit: limit)
    }

    /// Writes one version (sealed when the store seals writes). Replaces an existing `(key, ts)` row.
    public func put(_ version: StoredVersion) throws(StorageError) {
        try MVCCStore.checkTimestamp(version.commitTS)
        let record = try store.encodeRecord(version)
        if let keyID = MVCCStore.sealingKeyID(ofRecord: record) { sealTally.add(1, under: keyID) }
        try store.runStepHook("insert version")
        let statement = try database.statement(
            "INSERT OR REPLACE INTO kv_versions (key, ts, value) VALUES (?1, ?2, ?3)")
        try statement.bind(1, version.key)
        try statement.bind(2, Int64(version.commitTS))
        try statement.bind(3, record)
        try statement.run()
    }

    /// The applied index as of this transaction (0 for a new store).
    public func appliedIndex() throws(StorageError) -> UInt64 {
        try store.runStepHook("select applied index")
        return try MVCCStore.readAppliedIndex(database)
    }

    /// Records the Raft index whose effects this transaction contains. Must grow strictly.
    public func setAppliedIndex(_ index: UInt64) throws(StorageError) {
        let current = try appliedIndex()
        guard index > current else { throw StorageError.appliedIndexRegression(current: current, proposed: index) }
        try setMeta(MVCCStore.appliedIndexName, value: MVCCStore.encodeUInt64(index))
    }

    /// Reads an internal metadata value.
    public func meta(_ name: String) throws(StorageError) -> [UInt8]? {
        try store.runStepHook("select meta")
        return try MVCCStore.readMeta(database, name)
    }

    /// Writes an internal metadata value (cluster flags and the like).
    public func setMeta(_ name: String, value: [UInt8]) throws(StorageError) {
        try store.runStepHook("upsert meta")
        let statement = try database.statement(
            "INSERT OR REPLACE INTO internal_meta (name, value) VALUES (?1, ?2)")
        try statement.bind(1, name)
        try statement.bind(2, value)
        try statement.run()
    }

    /// Runs `body` inside a savepoint: when it throws, only its own changes are undone.
    public func withSavepoint<Result>(
        _ body: () throws(StorageError) -> Result
    ) throws(StorageError) -> Result {
        try database.execute("SAVEPOINT entry")
        do throws(StorageError) {
            let result = try body()
            try database.execute("RELEASE entry")
            return result
        } catch {
            try? database.execute("ROLLBACK TO entry")
            try? database.execute("RELEASE entry")
            throw error
        }
    }
}

extension MVCCStore {
    static let appliedIndexName = "applied_index"

    static func encodeUInt64(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(value)
        return bytes
    }

    static func decodeUInt64(_ bytes: [UInt8]) throws(StorageError) -> UInt64 {
        guard let value = UInt64(bigEndianBytes: bytes) else {
            throw StorageError.corruptRecord(reason: "internal integer is not 8 bytes")
        }
        return value
    }

    static func readMeta(_ database: SQLiteDatabase, _ name: String) throws(StorageError) -> [UInt8]? {
        let statement = try database.statement("SELECT value FROM internal_meta WHERE name = ?1")
        try statement.bind(1, name)
        guard try statement.step() else { return nil }
        let value = statement.bytes(0)
        statement.reset()
        return value
    }

    static func readAppliedIndex(_ database: SQLiteDatabase) throws(StorageError) -> UInt64 {
        guard let bytes = try readMeta(database, appliedIndexName) else { return 0 }
        return try decodeUInt64(bytes)
    }
}
