/// A writer-registry row as the store keeps it (DESIGN §3.6); the rules live in the encryption layer.
public struct RegistryRow: Hashable, Sendable {
    public var dekID: UInt32
    public var node16: UInt16
    public var fullNodeID: UInt64
    public var firstSeenLocalEpoch: UInt16
    public var lastSeenLocalEpoch: UInt16

    public init(dekID: UInt32, node16: UInt16, fullNodeID: UInt64, firstSeenLocalEpoch: UInt16,
                lastSeenLocalEpoch: UInt16) {
        self.dekID = dekID
        self.node16 = node16
        self.fullNodeID = fullNodeID
        self.firstSeenLocalEpoch = firstSeenLocalEpoch
        self.lastSeenLocalEpoch = lastSeenLocalEpoch
    }
}

extension WriteTransaction {
    /// The registry row of `(dekID, node16)` as of this transaction.
    public func registryRow(dekID: UInt32, node16: UInt16) throws(StorageError) -> RegistryRow? {
        try store.runStepHook("select registry")
        return try MVCCStore.readRegistryRow(database, dekID: dekID, node16: node16)
    }

    /// Inserts or replaces a registry row.
    public func setRegistryRow(_ row: RegistryRow) throws(StorageError) {
        try store.runStepHook("upsert registry")
        let statement = try database.statement("""
            INSERT OR REPLACE INTO writer_registry (dek_id, node16, full_node_id, first_seen_local_epoch,
            last_seen_local_epoch) VALUES (?1, ?2, ?3, ?4, ?5)
            """)
        try statement.bind(1, Int64(row.dekID))
        try statement.bind(2, Int64(row.node16))
        try statement.bind(3, Int64(bitPattern: row.fullNodeID))
        try statement.bind(4, Int64(row.firstSeenLocalEpoch))
        try statement.bind(5, Int64(row.lastSeenLocalEpoch))
        try statement.run()
    }

    /// Deletes every row of a DEK (its retirement).
    public func removeRegistryRows(dekID: UInt32) throws(StorageError) {
        try store.runStepHook("delete registry")
        let statement = try database.statement("DELETE FROM writer_registry WHERE dek_id = ?1")
        try statement.bind(1, Int64(dekID))
        try statement.run()
    }
}

extension MVCCStore {
    /// The committed registry row of `(dekID, node16)`.
    public func registryRow(dekID: UInt32, node16: UInt16) throws(StorageError) -> RegistryRow? {
        try withReader { (database) throws(StorageError) in
            try Self.readRegistryRow(database, dekID: dekID, node16: node16)
        }
    }

    static func readRegistryRow(_ database: SQLiteDatabase, dekID: UInt32, node16: UInt16) throws(StorageError)
        -> RegistryRow?
    {
        let statement = try database.statement("""
            SELECT full_node_id, first_seen_local_epoch, last_seen_local_epoch FROM writer_registry
            WHERE dek_id = ?1 AND node16 = ?2
            """)
        try statement.bind(1, Int64(dekID))
        try statement.bind(2, Int64(node16))
        guard try statement.step() else { return nil }
        defer { statement.reset() }
        return RegistryRow(dekID: dekID, node16: node16, fullNodeID: UInt64(bitPattern: statement.int64(0)),
                           firstSeenLocalEpoch: UInt16(truncatingIfNeeded: statement.int64(1)),
                           lastSeenLocalEpoch: UInt16(truncatingIfNeeded: statement.int64(2)))
    }
}

extension MVCCStore {
    /// Every committed registry row, ordered by key id then node16.
    public func registryRows() throws(StorageError) -> [RegistryRow] {
        try withReader { (database) throws(StorageError) in
            let statement = try database.statement("""
                SELECT dek_id, node16, full_node_id, first_seen_local_epoch, last_seen_local_epoch
                FROM writer_registry ORDER BY dek_id, node16
                """)
            defer { statement.reset() }
            var rows: [RegistryRow] = []
            while try statement.step() {
                rows.append(RegistryRow(
                    dekID: UInt32(truncatingIfNeeded: statement.int64(0)),
                    node16: UInt16(truncatingIfNeeded: statement.int64(1)),
                    fullNodeID: UInt64(bitPattern: statement.int64(2)),
                    firstSeenLocalEpoch: UInt16(truncatingIfNeeded: statement.int64(3)),
                    lastSeenLocalEpoch: UInt16(truncatingIfNeeded: statement.int64(4))))
            }
            return rows
        }
    }
}
