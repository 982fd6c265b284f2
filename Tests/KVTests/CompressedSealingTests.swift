import CSQLite
import Encryption
import KV
import Storage
import Testing
import TestSupport

/// Compress-then-seal through the store (DESIGN §3.2): what is written compressed reads back, values of
/// either setting read under the other, the flag bit is authenticated, and a frame above the reader's value
/// bound is refused with a typed error.
@Suite struct CompressedSealingTests {
    static let document = Array(String(repeating: "{\"user\":\"alice\",\"role\":\"admin\",\"active\":true}", count: 24).utf8)

    /// A sealer with the same key as `sealer`, another compression setting and value bound.
    static func sibling(of sealer: EnvelopeValueSealer, _ compression: ValueCompression,
                        limit: Int = MVCCStore.Limits().maxValueBytes) -> EnvelopeValueSealer {
        EnvelopeValueSealer(keyring: sealer.keyring, compression: compression, maximumValueByteCount: limit)
    }

    static func store(_ dir: TemporaryDirectory, _ sealer: EnvelopeValueSealer) throws -> MVCCStore {
        let store = try MVCCStore(path: dir.file("kv.db"))
        store.setSealer(sealer)
        store.setSealsWrites(true)
        return store
    }

    static func put(_ store: MVCCStore, _ key: String, ts: UInt64, _ body: [UInt8]) throws {
        try store.write { (tx) throws(StorageError) in
            try tx.put(StoredVersion(key: Array(key.utf8), commitTS: ts, isTombstone: false, expireAtMillis: 0,
                                     body: body))
        }
    }

    static func body(_ store: MVCCStore, _ key: String, at ts: UInt64 = MVCCStore.latestTS) throws -> [UInt8]? {
        try store.get(Array(key.utf8), at: ts, nowMillis: 0)?.body
    }

    /// The stored record of `key` at `ts`, read with SQLite directly.
    static func record(_ path: String, _ key: String, ts: UInt64) throws -> [UInt8] {
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(db, "SELECT value FROM kv_versions WHERE key = ? AND ts = ?", -1, &statement,
                                   nil) == SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        let keyBytes = Array(key.utf8)
        _ = keyBytes.withUnsafeBytes { sqlite3_bind_blob(statement, 1, $0.baseAddress, Int32($0.count), nil) }
        sqlite3_bind_int64(statement, 2, Int64(ts))
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        let count = Int(sqlite3_column_bytes(statement, 0))
        let bytes = sqlite3_column_blob(statement, 0)!
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    static func execute(_ path: String, _ sql: String) {
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        #expect(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK)
    }

    @Test func aCompressibleValueIsStoredCompressedAndReadsBack() throws {
        let dir = TemporaryDirectory("compressed-sealing")
        defer { dir.remove() }
        let store = try Self.store(dir, makeStorageSealer(compression: .zstd))
        defer { store.close() }
        try Self.put(store, "doc", ts: 10, Self.document)
        #expect(try Self.body(store, "doc") == Self.document)
        let record = try Self.record(dir.file("kv.db"), "doc", ts: 10)
        #expect(record[ValueHeader.byteCount + 1] == EnvelopeHeader.compressedFlag)
        #expect(record.count < Self.document.count / 4)
    }

    @Test func incompressibleAndShortValuesAreSealedUncompressed() throws {
        let dir = TemporaryDirectory("compressed-sealing")
        defer { dir.remove() }
        let store = try Self.store(dir, makeStorageSealer(compression: .zstd))
        defer { store.close() }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<2048).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Self.put(store, "random", ts: 10, random)
        try Self.put(store, "short", ts: 11, Array("a short value".utf8))
        for (key, ts, body) in [("random", UInt64(10), random), ("short", 11, Array("a short value".utf8))] {
            let record = try Self.record(dir.file("kv.db"), key, ts: ts)
            #expect(record[ValueHeader.byteCount + 1] == 0)
            #expect(record.count == ValueHeader.byteCount + Envelope.sealedByteCount(plaintextByteCount: body.count))
            #expect(try Self.body(store, key) == body)
        }
    }

    @Test func versionsWrittenUnderEitherSettingReadUnderBoth() throws {
        let dir = TemporaryDirectory("compressed-sealing")
        defer { dir.remove() }
        let plain = makeStorageSealer(compression: .none)
        let store = try Self.store(dir, plain)
        defer { store.close() }
        try Self.put(store, "doc", ts: 10, Self.document)
        #expect(try Self.record(dir.file("kv.db"), "doc", ts: 10)[ValueHeader.byteCount + 1] == 0)
        store.setSealer(Self.sibling(of: plain, .zstd))
        let second = Self.document + Array("second".utf8)
        try Self.put(store, "doc", ts: 20, second)
        #expect(try Self.record(dir.file("kv.db"), "doc", ts: 20)[ValueHeader.byteCount + 1] == 1)
        for sealer in [plain, Self.sibling(of: plain, .zstd)] {
            store.setSealer(sealer)
            #expect(try Self.body(store, "doc", at: 10) == Self.document)
            #expect(try Self.body(store, "doc", at: 20) == second)
        }
    }

    @Test func clearingTheCompressedFlagFailsAuthentication() throws {
        let dir = TemporaryDirectory("compressed-sealing")
        defer { dir.remove() }
        let store = try Self.store(dir, makeStorageSealer(compression: .zstd))
        defer { store.close() }
        try Self.put(store, "doc", ts: 10, Self.document)
        // The envelope's flag byte is byte 11 (1-based) of the record: 9 header bytes, then version, flag.
        Self.execute(dir.file("kv.db"), "UPDATE kv_versions SET value = substr(value, 1, 10) || x'00' || substr(value, 12)")
        #expect(throws: StorageError.integrityFailure) { try Self.body(store, "doc") }
    }

    @Test func aValueDecodingAboveTheReadersBoundIsRefusedWithATypedError() throws {
        let dir = TemporaryDirectory("compressed-sealing")
        defer { dir.remove() }
        let writer = makeStorageSealer(compression: .zstd)
        let store = try Self.store(dir, writer)
        defer { store.close() }
        let large = [UInt8](repeating: 0x7A, count: 1 << 20)
        try Self.put(store, "large", ts: 10, large)
        #expect(try Self.record(dir.file("kv.db"), "large", ts: 10).count < 1024)
        store.setSealer(Self.sibling(of: writer, .zstd, limit: 64 << 10))
        let error = #expect(throws: StorageError.self) { try Self.body(store, "large") }
        guard case .compressedValueRefused(let reason) = error else {
            Issue.record("expected compressedValueRefused, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("1048576") && reason.contains("65536"))
        store.setSealer(writer)
        #expect(try Self.body(store, "large") == large)
    }
}
