import CSQLite
import Storage
import Testing
import TestSupport

/// Alters the SQLite file behind the store's back, as a thief or a broken disk would.
@Suite struct TamperTests {
    static func execute(_ path: String, _ sql: String) throws {
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        #expect(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK)
    }

    @Test func flippedEnvelopeByteFailsWithTheIntegrityError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        store.setSealer(makeStorageSealer())
        store.setSealsWrites(true)
        try MVCCStoreTests.put(store, "k", ts: 1, "secret value", index: 1)
        // Flip the last byte of the stored record (inside the sealed body).
        try Self.execute(dir.file("db"), """
            UPDATE kv_versions SET value = substr(value, 1, length(value) - 1) ||
              CASE WHEN substr(value, -1) = x'00' THEN x'01' ELSE x'00' END
            """)
        #expect(throws: StorageError.integrityFailure) { try store.get(Array("k".utf8), nowMillis: 0) }
        #expect(store.integrityFailureCount == 1)
    }

    @Test func swappedValueBlobsFailWithTheIntegrityError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        store.setSealer(makeStorageSealer())
        store.setSealsWrites(true)
        try MVCCStoreTests.put(store, "a", ts: 1, "value of a", index: 1)
        try MVCCStoreTests.put(store, "b", ts: 2, "value of b", index: 2)
        try Self.execute(dir.file("db"), """
            CREATE TEMP TABLE original AS SELECT key, value FROM kv_versions;
            UPDATE kv_versions SET value = (SELECT value FROM original WHERE original.key <> kv_versions.key);
            """)
        #expect(throws: StorageError.integrityFailure) { try store.get(Array("a".utf8), nowMillis: 0) }
        #expect(throws: StorageError.integrityFailure) { try store.get(Array("b".utf8), nowMillis: 0) }
    }

    @Test func reservedEncStateIsAReadErrorNotAGuess() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try MVCCStoreTests.put(store, "k", ts: 1, "v", index: 1)
        try Self.execute(dir.file("db"), "UPDATE kv_versions SET value = x'04' || substr(value, 2)")
        #expect(throws: StorageError.self) { try store.get(Array("k".utf8), nowMillis: 0) }
    }
}
