import Storage
import Testing
import TestSupport

/// The per-key seal counts the store keeps with the data (``MVCCStore/sealCounts()``), which the leader's
/// automatic rotation reads.
@Suite struct SealCountTests {
    static let keyA: UInt32 = 0x0A0B_0C0D
    static let keyB: UInt32 = 0x0000_0102

    static func put(_ store: MVCCStore, _ key: String, ts: UInt64, tombstone: Bool = false) throws {
        try store.write { (tx) throws(StorageError) in
            try tx.put(StoredVersion(key: Array(key.utf8), commitTS: ts, isTombstone: tombstone, expireAtMillis: 0,
                                     body: tombstone ? [] : Array("value \(ts)".utf8)))
        }
    }

    @Test func everySealedVersionCountsUnderItsKeyAndCleartextOnesDoNot() throws {
        let dir = TemporaryDirectory("seal-counts")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try Self.put(store, "clear", ts: 1)
        #expect(try store.sealCounts().isEmpty)
        store.setSealer(makeStorageSealer(keyID: Self.keyA))
        store.setSealsWrites(true)
        try store.write { (tx) throws(StorageError) in
            for ts in UInt64(2)...11 {
                try tx.put(StoredVersion(key: Array("k\(ts)".utf8), commitTS: ts, body: Array("v".utf8)))
            }
        }
        try Self.put(store, "gone", ts: 12, tombstone: true)  // tombstones are never sealed
        #expect(try store.sealCounts() == [Self.keyA: 10])
        store.setSealer(makeStorageSealer(keyID: Self.keyB))
        try Self.put(store, "b", ts: 13)
        #expect(try store.sealCounts() == [Self.keyA: 10, Self.keyB: 1])
    }

    @Test func recordedRaftSealsAddUpAndCommitWithTheTransaction() throws {
        let dir = TemporaryDirectory("seal-counts")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try store.write { (tx) throws(StorageError) in
            tx.recordSeals(under: Self.keyB)
            tx.recordSeals(under: Self.keyB, count: 4)
        }
        #expect(throws: StorageError.self) {
            try store.write { (tx) throws(StorageError) in
                tx.recordSeals(under: Self.keyB, count: 100)
                throw StorageError.corruptRecord(reason: "abort the transaction")
            }
        }
        #expect(try store.sealCounts() == [Self.keyB: 5])
        store.close()
        let reopened = try MVCCStore(path: dir.file("db"))
        defer { reopened.close() }
        #expect(try reopened.sealCounts() == [Self.keyB: 5])
    }

    @Test func aRemovedCountIsGoneEvenWithSealsPendingInTheSameTransaction() throws {
        let dir = TemporaryDirectory("seal-counts")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try store.write { (tx) throws(StorageError) in
            tx.recordSeals(under: Self.keyA, count: 3)
            tx.recordSeals(under: Self.keyB, count: 2)
        }
        try store.write { (tx) throws(StorageError) in
            tx.recordSeals(under: Self.keyA)
            try tx.removeSealCount(of: Self.keyA)
        }
        #expect(try store.sealCounts() == [Self.keyB: 2])
    }

    @Test func snapshotsCarryTheCounts() throws {
        let dir = TemporaryDirectory("seal-counts")
        defer { dir.remove() }
        let source = try MVCCStore(path: dir.file("source"))
        defer { source.close() }
        source.setSealer(makeStorageSealer(keyID: Self.keyA))
        source.setSealsWrites(true)
        try source.write { (tx) throws(StorageError) in
            try tx.put(StoredVersion(key: Array("k".utf8), commitTS: 1, body: Array("v".utf8)))
            tx.recordSeals(under: Self.keyB, count: 7)
            try tx.setAppliedIndex(3)
        }
        let bytes = try SnapshotTests.export(source).flatMap { $0 }
        let target = try MVCCStore(path: dir.file("target"))
        defer { target.close() }
        #expect(try SnapshotTests.importing(bytes, into: target) == 3)
        #expect(try target.sealCounts() == [Self.keyA: 1, Self.keyB: 7])
    }
}

/// ``MVCCStore/sealedVersionCounts()`` and its snapshot twin, which `encryption key-usage` reports.
@Suite struct SealedVersionCountTests {
    @Test func storeAndSnapshotCountTheSameVersionsPerKey() throws {
        let dir = TemporaryDirectory("sealed-versions")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try SealCountTests.put(store, "clear", ts: 1)
        for (keyID, range) in [(SealCountTests.keyA, UInt64(2)...4), (SealCountTests.keyB, 5...5)] {
            store.setSealer(makeStorageSealer(keyID: keyID))
            store.setSealsWrites(true)
            for ts in range { try SealCountTests.put(store, "k\(ts)", ts: ts) }
        }
        try SealCountTests.put(store, "k2", ts: 9, tombstone: true)
        try store.write { (tx) throws(StorageError) in try tx.setAppliedIndex(9) }
        let expected = [SealCountTests.keyA: 3, SealCountTests.keyB: 1]
        #expect(try store.sealedVersionCounts() == expected)
        let bytes = try SnapshotTests.export(store).flatMap { $0 }
        #expect(try MVCCStore.sealedVersionCounts(inSnapshot: bytes) == expected)
        #expect(throws: StorageError.self) { try MVCCStore.sealedVersionCounts(inSnapshot: Array(bytes.dropLast(9))) }
        #expect(throws: StorageError.self) { try MVCCStore.sealedVersionCounts(inSnapshot: [1, 2, 3]) }
    }
}
