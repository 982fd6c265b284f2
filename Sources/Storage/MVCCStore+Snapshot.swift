import DurableIO

extension MVCCStore {
    /// What an exported snapshot contains.
    public struct SnapshotSummary: Hashable, Sendable {
        public var appliedIndex: UInt64
        public var recordCount: UInt64
        public var byteCount: Int
    }

    /// The chunk size snapshot export hands to its sink.
    public static let snapshotChunkBytes = 1 << 20

    /// Streams a consistent snapshot of the store, as of its applied index, to `sink` in chunks.
    ///
    /// Reads run in one read transaction, so concurrent writes are not seen. Values travel exactly as stored:
    /// sealed bodies stay sealed.
    @discardableResult
    public func exportSnapshot(to sink: ([UInt8]) throws -> Void) throws(StorageError) -> SnapshotSummary {
        try withReader { (database) throws(StorageError) -> SnapshotSummary in
            try database.execute("BEGIN")
            defer { try? database.execute("COMMIT") }
            return try withoutActuallyEscaping(sink) { (sink) throws(StorageError) -> SnapshotSummary in
            var exporter = SnapshotExporter(sink: sink)
            exporter.writer.bytes.append(contentsOf: SnapshotStream.magic)
            exporter.writer.u8(SnapshotStream.formatVersion)
            let applied = try Self.readAppliedIndex(database)
            exporter.writer.u64(applied)
            try exporter.rows(database, "SELECT key, ts, value FROM kv_versions ORDER BY key, ts") { w, row in
                w.u8(SnapshotStream.Tag.version.rawValue)
                w.blob32(row.bytes(0))
                w.u64(UInt64(row.int64(1)))
                w.blob32(row.bytes(2))
            }
            try exporter.rows(database, "SELECT name, value FROM internal_meta ORDER BY name") { w, row in
                w.u8(SnapshotStream.Tag.meta.rawValue)
                w.string16(row.text(0))
                w.blob32(row.bytes(1))
            }
            try exporter.rows(database, """
                SELECT dek_id, node16, full_node_id, first_seen_local_epoch, last_seen_local_epoch
                FROM writer_registry ORDER BY dek_id, node16
                """) { w, row in
                w.u8(SnapshotStream.Tag.registry.rawValue)
                w.u32(UInt32(truncatingIfNeeded: row.int64(0)))
                w.u16(UInt16(truncatingIfNeeded: row.int64(1)))
                w.u64(UInt64(bitPattern: row.int64(2)))
                w.u16(UInt16(truncatingIfNeeded: row.int64(3)))
                w.u16(UInt16(truncatingIfNeeded: row.int64(4)))
            }
            try exporter.rows(database, "SELECT name, key, ts FROM rewrite_cursors ORDER BY name") { w, row in
                w.u8(SnapshotStream.Tag.cursor.rawValue)
                w.string16(row.text(0))
                w.blob32(row.bytes(1))
                w.u64(UInt64(row.int64(2)))
            }
            return try exporter.finish(appliedIndex: applied)
            }
        }
    }

    /// Replaces the whole content of the store with a snapshot stream pulled from `source`.
    ///
    /// The stream is checked completely (structure, limits, checksum) inside one transaction, which commits
    /// only when everything is valid; on any error the store is unchanged.
    ///
    /// - Parameter source: returns the next chunk, or `nil` at the end of the stream.
    /// - Returns: the applied index the snapshot carries.
    @discardableResult
    public func importSnapshot(from source: @escaping () throws -> [UInt8]?) throws(StorageError) -> UInt64 {
        try write { (transaction) throws(StorageError) -> UInt64 in
            let database = transaction.database
            try database.execute(
                "DELETE FROM kv_versions; DELETE FROM internal_meta; DELETE FROM writer_registry; DELETE FROM rewrite_cursors")
            var reader = SnapshotReader(source: source)
            guard Array(try reader.take(SnapshotStream.magic.count)) == SnapshotStream.magic else {
                throw StorageError.corruptSnapshot(reason: "bad magic")
            }
            let version = try reader.u8()
            guard version == SnapshotStream.formatVersion else {
                throw StorageError.corruptSnapshot(reason: "unknown format version \(version)")
            }
            let applied = try reader.u64()
            var count: UInt64 = 0
            while true {
                let rawTag = try reader.u8()
                guard let tag = SnapshotStream.Tag(rawValue: rawTag) else {
                    throw StorageError.corruptSnapshot(reason: "unknown record tag \(rawTag)")
                }
                if tag == .trailer { break }
                try importRecord(tag, from: &reader, into: database)
                count += 1
            }
            let declared = try reader.u64()
            let expected = reader.checksum
            let stored = try reader.u32()
            guard declared == count else { throw StorageError.corruptSnapshot(reason: "record count mismatch") }
            guard stored == expected else { throw StorageError.corruptSnapshot(reason: "checksum mismatch") }
            guard try reader.atEnd() else { throw StorageError.corruptSnapshot(reason: "bytes after the trailer") }
            guard try Self.readAppliedIndex(database) == applied else {
                throw StorageError.corruptSnapshot(reason: "applied index in header and rows disagree")
            }
            return applied
        }
    }

    /// Replaces the whole content of the store with a snapshot held in memory (see ``importSnapshot(from:)``).
    @discardableResult
    public func importSnapshot(bytes: [UInt8]) throws(StorageError) -> UInt64 {
        var offset = 0
        return try importSnapshot {
            guard offset < bytes.count else { return nil }
            defer { offset += Self.snapshotChunkBytes }
            return Array(bytes[offset..<min(offset + Self.snapshotChunkBytes, bytes.count)])
        }
    }

    private func importRecord(_ tag: SnapshotStream.Tag, from reader: inout SnapshotReader,
                              into database: SQLiteDatabase) throws(StorageError)
    {
        let maxValue = limits.maxValueBytes + ValueHeader.byteCount + 64
        switch tag {
        case .version:
            let key = try reader.blob32(max: SnapshotStream.maxKeyBytes)
            let ts = try reader.u64()
            let value = try reader.blob32(max: maxValue)
            try Self.checkTimestamp(ts)
            _ = try ValueHeader(decoding: value)
            try insert(database, "INSERT INTO kv_versions (key, ts, value) VALUES (?1, ?2, ?3)") { (s) throws(StorageError) in
                try s.bind(1, key); try s.bind(2, Int64(ts)); try s.bind(3, value)
            }
        case .meta:
            let name = try reader.string16()
            let value = try reader.blob32(max: maxValue)
            try insert(database, "INSERT INTO internal_meta (name, value) VALUES (?1, ?2)") { (s) throws(StorageError) in
                try s.bind(1, name); try s.bind(2, value)
            }
        case .registry:
            let fields = (try reader.u32(), try reader.u16(), try reader.u64(), try reader.u16(), try reader.u16())
            try insert(database, """
                INSERT INTO writer_registry (dek_id, node16, full_node_id, first_seen_local_epoch,
                last_seen_local_epoch) VALUES (?1, ?2, ?3, ?4, ?5)
                """) { (s) throws(StorageError) in
                try s.bind(1, Int64(fields.0)); try s.bind(2, Int64(fields.1))
                try s.bind(3, Int64(bitPattern: fields.2)); try s.bind(4, Int64(fields.3)); try s.bind(5, Int64(fields.4))
            }
        case .cursor:
            let name = try reader.string16()
            let key = try reader.blob32(max: SnapshotStream.maxKeyBytes)
            let ts = try reader.u64()
            try Self.checkTimestamp(ts)
            try insert(database, "INSERT INTO rewrite_cursors (name, key, ts) VALUES (?1, ?2, ?3)") { (s) throws(StorageError) in
                try s.bind(1, name); try s.bind(2, key); try s.bind(3, Int64(ts))
            }
        case .trailer:
            preconditionFailure("the trailer is handled by the import loop")
        }
    }

    private func insert(_ database: SQLiteDatabase, _ sql: String,
                        bind: (SQLiteStatement) throws(StorageError) -> Void) throws(StorageError)
    {
        let statement = try database.statement(sql)
        try bind(statement)
        do throws(StorageError) { try statement.run() } catch {
            throw StorageError.corruptSnapshot(reason: "duplicate or invalid row (\(error))")
        }
    }
}

/// Buffers snapshot bytes, checksums them and hands full chunks to a sink.
struct SnapshotExporter {
    let sink: ([UInt8]) throws -> Void
    var writer = ByteWriter()
    var checksum: UInt32 = 0
    var count: UInt64 = 0
    var total = 0

    init(sink: @escaping ([UInt8]) throws -> Void) {
        self.sink = sink
    }

    mutating func rows(_ database: SQLiteDatabase, _ sql: String,
                       encode: (inout ByteWriter, SQLiteStatement) -> Void) throws(StorageError)
    {
        let statement = try database.statement(sql)
        defer { statement.reset() }
        while try statement.step() {
            encode(&writer, statement)
            count += 1
            if writer.bytes.count >= MVCCStore.snapshotChunkBytes { try flush() }
        }
    }

    mutating func flush() throws(StorageError) {
        guard !writer.bytes.isEmpty else { return }
        checksum = CRC32C.update(checksum, writer.bytes[...])
        total += writer.bytes.count
        do { try sink(writer.bytes) } catch {
            throw StorageError.corruptSnapshot(reason: "sink failed: \(error)")
        }
        writer.bytes.removeAll(keepingCapacity: true)
    }

    mutating func finish(appliedIndex: UInt64) throws(StorageError) -> MVCCStore.SnapshotSummary {
        writer.u8(SnapshotStream.Tag.trailer.rawValue)
        writer.u64(count)
        checksum = CRC32C.update(checksum, writer.bytes[...])
        writer.u32(checksum)
        total += writer.bytes.count
        do { try sink(writer.bytes) } catch {
            throw StorageError.corruptSnapshot(reason: "sink failed: \(error)")
        }
        return MVCCStore.SnapshotSummary(appliedIndex: appliedIndex, recordCount: count, byteCount: total)
    }
}
