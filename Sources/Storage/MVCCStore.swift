import Synchronization

/// Multi-version key-value storage on SQLite (DESIGN §3.3).
///
/// One row per version in `kv_versions`; internal state (applied index, cluster flags, writer registry,
/// rewrite cursors) in other tables. Writes happen in one transaction per batch of applied Raft entries, and
/// the applied index is written in that same transaction, so after a crash the store is exactly at its last
/// committed index: re-applying from the log resumes there, skipping nothing and repeating nothing.
///
/// Durability: WAL with `synchronous=NORMAL`. A power loss may drop the newest committed transactions; they
/// are re-applied from the Raft log, whose fsync is the acknowledgment point, and the applied index always
/// matches the data. `secure_delete` is on so rewritten or deleted bytes do not linger in free space.
///
/// Thread-safety: one writer connection behind a lock, and a pool of reader connections (WAL readers see
/// the last committed transaction and never block the writer).
public final class MVCCStore: Sendable {
    /// Named limits of the store.
    public struct Limits: Sendable, Hashable {
        /// The largest value body accepted, in bytes.
        public var maxValueBytes: Int = 64 * 1024 * 1024
        /// Idle reader connections kept open.
        public var maxIdleReaders: Int = 8
        /// The most keys one scan may return.
        public var maxScanKeys: Int = 100_000
        public init() {}
    }

    /// Fixed on creation of the database file.
    public static let pageSizeBytes = 16384

    /// The timestamp that reads "the newest version" (SQLite stores `ts` as a signed 64-bit integer).
    public static let latestTS = UInt64(Int64.max)

    public let path: String
    public let limits: Limits
    private let writer: Mutex<SQLiteDatabase>
    private let idleReaders: Mutex<[SQLiteDatabase]>
    private let sealing = Mutex<Sealing>(Sealing())
    private let integrityFailures = Atomic<UInt64>(0)
    private let stepHook = Mutex<(@Sendable (String) throws -> Void)?>(nil)

    struct Sealing {
        var sealer: (any ValueSealer)?
        var sealsWrites = false
    }

    /// Opens the store at `path`, creating the file and schema when missing.
    public init(path: String, limits: Limits = Limits()) throws(StorageError) {
        self.path = path
        self.limits = limits
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA page_size=\(Self.pageSizeBytes)")
        try database.execute("PRAGMA journal_mode=WAL")
        try database.execute("PRAGMA synchronous=NORMAL")
        try database.execute("PRAGMA secure_delete=ON")
        try database.execute(Self.schema)
        writer = Mutex(database)
        idleReaders = Mutex([])
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS kv_versions (
          key BLOB NOT NULL, ts INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, ts)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS internal_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS writer_registry (
          dek_id INTEGER NOT NULL, node16 INTEGER NOT NULL, full_node_id INTEGER NOT NULL,
          first_seen_local_epoch INTEGER NOT NULL, last_seen_local_epoch INTEGER NOT NULL,
          PRIMARY KEY (dek_id, node16)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rewrite_cursors (
          name TEXT PRIMARY KEY, key BLOB NOT NULL, ts INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    // MARK: - Sealing

    /// Sets the sealer used to open sealed bodies (and to seal new ones once ``setSealsWrites(_:)`` is on).
    public func setSealer(_ sealer: (any ValueSealer)?) {
        sealing.withLock { $0.sealer = sealer }
    }

    /// Turns sealing of every newly written version on or off (on once `storage_envelope_active`).
    public func setSealsWrites(_ on: Bool) {
        sealing.withLock { $0.sealsWrites = on }
    }

    /// How many reads failed authentication since the store was opened (exported as a metric).
    public var integrityFailureCount: UInt64 { integrityFailures.load(ordering: .relaxed) }

    /// Installs a hook called with a step name before every SQLite statement of the write path; a throwing
    /// hook aborts the transaction there. Used by crash tests; `nil` in production.
    public func setStepHook(_ hook: (@Sendable (String) throws -> Void)?) {
        stepHook.withLock { $0 = hook }
    }

    func runStepHook(_ step: String) throws(StorageError) {
        guard let hook = stepHook.withLock({ $0 }) else { return }
        do { try hook(step) } catch let error as StorageError { throw error } catch {
            throw StorageError.sqlite(code: -1, message: "step hook failed: \(error)", context: step)
        }
    }

    var currentSealing: Sealing { sealing.withLock { $0 } }

    /// Encodes a version for `kv_versions`, sealing the body when sealing is on.
    func encodeRecord(_ version: StoredVersion) throws(StorageError) -> [UInt8] {
        guard version.body.count <= limits.maxValueBytes else {
            throw StorageError.valueTooLarge(size: version.body.count, limit: limits.maxValueBytes)
        }
        let state = currentSealing
        var header = ValueHeader(isTombstone: version.isTombstone, expireAtMillis: version.expireAtMillis)
        guard state.sealsWrites && !version.isTombstone else {
            var record: [UInt8] = []
            record.reserveCapacity(ValueHeader.byteCount + version.body.count)
            header.encode(into: &record)
            record.append(contentsOf: version.body)
            return record
        }
        guard let sealer = state.sealer else { throw StorageError.sealerUnavailable }
        header.encoding = .storageEnvelope
        var headerBytes: [UInt8] = []
        header.encode(into: &headerBytes)
        let capacity = ValueHeader.byteCount + sealer.sealedByteCount(plaintextByteCount: version.body.count)
        var failure: StorageError?
        let record = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.copyBytes(from: headerBytes)
            do throws(StorageError) {
                let sealed = try sealer.seal(version.body, userKey: version.key, commitTS: version.commitTS,
                                             into: UnsafeMutableRawBufferPointer(rebasing: raw[ValueHeader.byteCount...]))
                count = ValueHeader.byteCount + sealed
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return record
    }

    /// Decodes a `kv_versions` record, opening a sealed body.
    func decodeRecord(_ record: [UInt8], key: [UInt8], commitTS: UInt64) throws(StorageError) -> StoredVersion {
        let header = try ValueHeader(decoding: record)
        let body: [UInt8]
        if header.encoding == .cleartext {
            body = Array(record[ValueHeader.byteCount...])
        } else {
            guard let sealer = currentSealing.sealer else { throw StorageError.sealerUnavailable }
            do throws(StorageError) {
                body = try sealer.open(record[ValueHeader.byteCount...], userKey: key, commitTS: commitTS)
            } catch {
                if error == .integrityFailure { integrityFailures.add(1, ordering: .relaxed) }
                throw error
            }
        }
        return StoredVersion(key: key, commitTS: commitTS, isTombstone: header.isTombstone,
                             expireAtMillis: header.expireAtMillis, body: body)
    }

    // MARK: - Connections

    /// Runs `body` inside one write transaction (BEGIN IMMEDIATE … COMMIT); rolls back when it throws.
    public func write<Result>(
        _ body: (inout WriteTransaction) throws(StorageError) -> Result
    ) throws(StorageError) -> Result {
        try writer.withLock { (database) throws(StorageError) -> Result in
            try runStepHook("begin")
            try database.execute("BEGIN IMMEDIATE")
            do throws(StorageError) {
                var transaction = WriteTransaction(store: self, database: database)
                let result = try body(&transaction)
                try transaction.flushSealCounts()
                try runStepHook("commit")
                try database.execute("COMMIT")
                return result
            } catch {
                if database.inTransaction { try? database.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Runs `body` with a reader connection (from the pool, or a new one).
    func withReader<Result>(
        _ body: (SQLiteDatabase) throws(StorageError) -> Result
    ) throws(StorageError) -> Result {
        let pooled = idleReaders.withLock { $0.popLast() }
        let database: SQLiteDatabase
        if let pooled { database = pooled } else { database = try SQLiteDatabase(path: path) }
        defer {
            if database.inTransaction { try? database.execute("ROLLBACK") }
            let keep = idleReaders.withLock { pool in
                guard pool.count < limits.maxIdleReaders else { return false }
                pool.append(database)
                return true
            }
            if !keep { database.close() }
        }
        return try body(database)
    }

    /// Closes every connection. The store must not be used afterwards.
    public func close() {
        idleReaders.withLock { pool in
            for database in pool { database.close() }
            pool.removeAll()
        }
        writer.withLock { $0.close() }
    }

    /// Folds the WAL into the database file and truncates the WAL to zero bytes.
    public func checkpoint() throws(StorageError) {
        try writer.withLock { (database) throws(StorageError) in
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    static func checkTimestamp(_ ts: UInt64) throws(StorageError) {
        guard ts <= latestTS else { throw StorageError.timestampOutOfRange(ts) }
    }
}
