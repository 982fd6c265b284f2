/// A stored version's place in `kv_versions` order: by row key, then commit timestamp.
public struct RowPosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The row key exactly as stored.
    public var key: [UInt8]
    /// The commit timestamp (below 2^63).
    public var ts: UInt64

    public init(key: [UInt8], ts: UInt64) {
        self.key = key
        self.ts = ts
    }

    public static func < (lhs: RowPosition, rhs: RowPosition) -> Bool {
        lhs.key.lexicographicallyPrecedes(rhs.key) || (lhs.key == rhs.key && lhs.ts < rhs.ts)
    }

    /// Byte count and timestamp only: row keys carry user keys, which never go into logs or messages.
    public var description: String { "row(\(key.count) key bytes, ts \(ts))" }
}

/// Re-sealing stored versions in place, for the rewrite of old data under the active storage DEK.
///
/// A version needs re-sealing when it is live (not a tombstone) and its body is cleartext or sealed under
/// another key than the one kept. Re-sealing opens the body and writes it again at the same (key, ts) with
/// the store's current sealing, so it lands under the active DEK; `secure_delete` overwrites the old bytes,
/// and ``MVCCStore/checkpoint()`` then truncates the WAL that still holds the old page images.
extension MVCCStore {
    /// The rows after `start` (from the first when `nil`), at most `limit`, in order, as last committed.
    public func rowPositions(after start: RowPosition?, limit: Int) throws(StorageError) -> [RowPosition] {
        precondition(limit > 0, "a row window holds at least one row")
        return try withReader { (database) throws(StorageError) -> [RowPosition] in
            let statement = try database.statement(start == nil
                ? "SELECT key, ts FROM kv_versions ORDER BY key, ts LIMIT ?1"
                : "SELECT key, ts FROM kv_versions WHERE (key, ts) > (?2, ?3) ORDER BY key, ts LIMIT ?1")
            defer { statement.reset() }
            try statement.bind(1, Int64(limit))
            if let start {
                try Self.checkTimestamp(start.ts)
                try statement.bind(2, start.key)
                try statement.bind(3, Int64(start.ts))
            }
            var positions: [RowPosition] = []
            while try statement.step() {
                positions.append(RowPosition(key: statement.bytes(0), ts: UInt64(statement.int64(1))))
            }
            return positions
        }
    }

    /// How many versions still need re-sealing to be under `keyID` (see the type's documentation).
    public func countVersionsNeedingReseal(keeping keyID: UInt32) throws(StorageError) -> Int {
        try withReader { (database) throws(StorageError) -> Int in
            let statement = try database.statement("""
                SELECT count(*) FROM kv_versions
                WHERE substr(value, 1, 1) = x'00' OR (substr(value, 1, 1) = x'02' AND substr(value, 12, 4) <> ?1)
                """)
            defer { statement.reset() }
            try statement.bind(1, Self.bigEndianKeyID(keyID))
            guard try statement.step() else { return 0 }
            return Int(statement.int64(0))
        }
    }

    /// Every stored version, tombstones included.
    public func versionCount() throws(StorageError) -> Int {
        try withReader { (database) throws(StorageError) -> Int in
            let statement = try database.statement("SELECT count(*) FROM kv_versions")
            defer { statement.reset() }
            guard try statement.step() else { return 0 }
            return Int(statement.int64(0))
        }
    }

    static func bigEndianKeyID(_ keyID: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: keyID >> (24 - 8 * $0)) }
    }
}

extension WriteTransaction {
    /// Re-seals, under the store's current sealing, every version in `(start, end]` that is live and not
    /// already sealed under `keyID`; `nil` bounds are open.
    ///
    /// - Returns: how many versions the range holds on this replica and how many were re-sealed.
    /// - Throws: ``StorageError/sealerUnavailable`` when the store does not seal writes (re-encoding would
    ///   write cleartext), and the errors of opening and writing a version.
    public func resealVersions(after start: RowPosition?, through end: RowPosition?, keeping keyID: UInt32)
        throws(StorageError) -> (examined: Int, resealed: Int)
    {
        guard store.currentSealing.sealsWrites else { throw StorageError.sealerUnavailable }
        var conditions: [String] = []
        if start != nil { conditions.append("(key, ts) > (?1, ?2)") }
        if end != nil { conditions.append("(key, ts) <= (?3, ?4)") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        try store.runStepHook("select reseal range")
        let statement = try database.statement("SELECT key, ts, value FROM kv_versions \(filter) ORDER BY key, ts")
        if let start {
            try MVCCStore.checkTimestamp(start.ts)
            try statement.bind(1, start.key)
            try statement.bind(2, Int64(start.ts))
        }
        if let end {
            try MVCCStore.checkTimestamp(end.ts)
            try statement.bind(3, end.key)
            try statement.bind(4, Int64(end.ts))
        }
        var examined = 0
        var stale: [(key: [UInt8], ts: UInt64, record: [UInt8])] = []
        do throws(StorageError) {
            while try statement.step() {
                examined += 1
                let record = statement.bytes(2)
                let header = try ValueHeader(decoding: record)
                guard !header.isTombstone, MVCCStore.sealingKeyID(ofRecord: record) != keyID else { continue }
                stale.append((statement.bytes(0), UInt64(statement.int64(1)), record))
            }
            statement.reset()
        } catch {
            statement.reset()
            throw error
        }
        // Rows are rewritten after the scan: changing a table while a statement walks it is undefined in SQLite.
        for row in stale {
            try put(try store.decodeRecord(row.record, key: row.key, commitTS: row.ts))
        }
        return (examined, stale.count)
    }
}

/// The `rewrite_cursors` table: where a rewrite run stopped, by run name, replicated with the data.
extension WriteTransaction {
    /// The cursor of the run `name` as of this transaction; `nil` when there is none.
    public func rewriteCursor(_ name: String) throws(StorageError) -> RowPosition? {
        try store.runStepHook("select rewrite cursor")
        return try MVCCStore.readRewriteCursor(database, name)
    }

    /// Sets (or, with `nil`, removes) the cursor of the run `name`.
    public func setRewriteCursor(_ name: String, _ position: RowPosition?) throws(StorageError) {
        try store.runStepHook("upsert rewrite cursor")
        guard let position else {
            let statement = try database.statement("DELETE FROM rewrite_cursors WHERE name = ?1")
            try statement.bind(1, name)
            try statement.run()
            return
        }
        try MVCCStore.checkTimestamp(position.ts)
        let statement = try database.statement(
            "INSERT OR REPLACE INTO rewrite_cursors (name, key, ts) VALUES (?1, ?2, ?3)")
        try statement.bind(1, name)
        try statement.bind(2, position.key)
        try statement.bind(3, Int64(position.ts))
        try statement.run()
    }
}

extension MVCCStore {
    /// The last committed cursor of the run `name`; `nil` when there is none.
    public func rewriteCursor(_ name: String) throws(StorageError) -> RowPosition? {
        try withReader { (database) throws(StorageError) -> RowPosition? in try Self.readRewriteCursor(database, name) }
    }

    static func readRewriteCursor(_ database: SQLiteDatabase, _ name: String) throws(StorageError) -> RowPosition? {
        let statement = try database.statement("SELECT key, ts FROM rewrite_cursors WHERE name = ?1")
        defer { statement.reset() }
        try statement.bind(1, name)
        guard try statement.step() else { return nil }
        return RowPosition(key: statement.bytes(0), ts: UInt64(statement.int64(1)))
    }
}

/// Which storage DEKs stored versions still need: what `encryption key-usage` and `retire-dek` check.
extension MVCCStore {
    /// How many stored versions each storage key id seals (sealed tombstones included).
    public func sealedVersionCounts() throws(StorageError) -> [UInt32: Int] {
        try withReader { (database) throws(StorageError) -> [UInt32: Int] in
            let statement = try database.statement("""
                SELECT substr(value, 12, 4), count(*) FROM kv_versions
                WHERE substr(value, 1, 1) IN (x'02', x'03') GROUP BY 1
                """)
            defer { statement.reset() }
            var counts: [UInt32: Int] = [:]
            while try statement.step() {
                let id = statement.bytes(0).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                counts[id] = Int(statement.int64(1))
            }
            return counts
        }
    }

    /// How many versions of a snapshot stream (``exportSnapshot(to:)``) each storage key id seals.
    ///
    /// - Throws: ``StorageError/corruptSnapshot(reason:)`` when the stream does not parse.
    public static func sealedVersionCounts(inSnapshot bytes: [UInt8]) throws(StorageError) -> [UInt32: Int] {
        var offset = 0
        var reader = SnapshotReader {
            guard offset < bytes.count else { return nil }
            defer { offset += snapshotChunkBytes }
            return Array(bytes[offset..<min(offset + snapshotChunkBytes, bytes.count)])
        }
        guard Array(try reader.take(SnapshotStream.magic.count)) == SnapshotStream.magic,
              try reader.u8() == SnapshotStream.formatVersion
        else { throw StorageError.corruptSnapshot(reason: "bad magic or format version") }
        _ = try reader.u64()
        let maxBlob = 1 << 30
        var counts: [UInt32: Int] = [:]
        var records: UInt64 = 0
        while true {
            let rawTag = try reader.u8()
            guard let tag = SnapshotStream.Tag(rawValue: rawTag) else {
                throw StorageError.corruptSnapshot(reason: "unknown record tag \(rawTag)")
            }
            if tag != .trailer { records += 1 }
            switch tag {
            case .trailer:
                let declared = try reader.u64()
                let expected = reader.checksum
                guard declared == records, try reader.u32() == expected, try reader.atEnd() else {
                    throw StorageError.corruptSnapshot(reason: "record count or checksum mismatch")
                }
                return counts
            case .version:
                _ = try reader.blob32(max: SnapshotStream.maxKeyBytes)
                _ = try reader.u64()
                if let id = sealingKeyID(ofRecord: try reader.blob32(max: maxBlob)) { counts[id, default: 0] += 1 }
            case .meta:
                _ = try reader.string16()
                _ = try reader.blob32(max: maxBlob)
            case .registry:
                _ = (try reader.u32(), try reader.u16(), try reader.u64(), try reader.u16(), try reader.u16())
            case .cursor:
                _ = try reader.string16()
                _ = try reader.blob32(max: SnapshotStream.maxKeyBytes)
                _ = try reader.u64()
            }
        }
    }
}
