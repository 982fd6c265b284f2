import Storage
import Testing
import TestSupport

@Suite struct MVCCStoreTests {
    static func put(_ store: MVCCStore, _ key: String, ts: UInt64, _ value: String?, expire: UInt64 = 0,
                    index: UInt64) throws {
        try store.write { (tx) throws(StorageError) in
            try tx.put(StoredVersion(key: Array(key.utf8), commitTS: ts, isTombstone: value == nil,
                                     expireAtMillis: expire, body: Array((value ?? "").utf8)))
            try tx.setAppliedIndex(index)
        }
    }

    static func value(_ store: MVCCStore, _ key: String, at ts: UInt64 = MVCCStore.latestTS,
                      now: UInt64 = 0) throws -> String? {
        try store.get(Array(key.utf8), at: ts, nowMillis: now).map { String(decoding: $0.body, as: UTF8.self) }
    }

    @Test func readsTheNewestVersionAtOrBelowTheTimestamp() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try Self.put(store, "k", ts: 10, "a", index: 1)
        try Self.put(store, "k", ts: 20, "b", index: 2)
        try Self.put(store, "k", ts: 30, nil, index: 3)
        #expect(try Self.value(store, "k", at: 9) == nil)
        #expect(try Self.value(store, "k", at: 10) == "a")
        #expect(try Self.value(store, "k", at: 25) == "b")
        #expect(try Self.value(store, "k", at: 30) == nil)
        #expect(try Self.value(store, "k") == nil)
        #expect(try store.versions(of: Array("k".utf8)).map(\.commitTS) == [30, 20, 10])
        #expect(try store.appliedIndex() == 3)
    }

    @Test func expiredVersionsAreInvisible() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try Self.put(store, "k", ts: 1, "v", expire: 1000, index: 1)
        #expect(try Self.value(store, "k", now: 999) == "v")
        #expect(try Self.value(store, "k", now: 1000) == nil)
    }

    @Test func scanReturnsVisibleKeysInOrderWithinBounds() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        var index: UInt64 = 0
        for (key, ts, value) in [("a", 1, "1"), ("b", 2, "2"), ("b", 3, nil), ("c", 4, "4"), ("d", 5, "5"),
                                 ("c", 6, "6")] as [(String, UInt64, String?)] {
            index += 1
            try Self.put(store, key, ts: ts, value, index: index)
        }
        let all = try store.scan(from: [], to: nil, nowMillis: 0, limit: 100)
        #expect(all.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "c", "d"])
        #expect(all.map { String(decoding: $0.body, as: UTF8.self) } == ["1", "6", "5"])
        let bounded = try store.scan(from: Array("b".utf8), to: Array("d".utf8), at: 5, nowMillis: 0, limit: 100)
        #expect(bounded.map { String(decoding: $0.body, as: UTF8.self) } == ["4"])
        #expect(try store.scan(from: [], to: nil, nowMillis: 0, limit: 1).count == 1)
    }

    @Test func appliedIndexOnlyGrowsAndSurvivesReopen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try MVCCStore(path: dir.file("db"))
            try Self.put(store, "k", ts: 1, "v", index: 7)
            #expect(throws: StorageError.appliedIndexRegression(current: 7, proposed: 7)) {
                try Self.put(store, "k", ts: 2, "w", index: 7)
            }
            store.close()
        }
        let reopened = try MVCCStore(path: dir.file("db"))
        #expect(try reopened.appliedIndex() == 7)
        #expect(try Self.value(reopened, "k") == "v")
    }

    @Test func rejectsTimestampsAtOrAbove2To63AndOversizedValues() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var limits = MVCCStore.Limits()
        limits.maxValueBytes = 8
        let store = try MVCCStore(path: dir.file("db"), limits: limits)
        #expect(throws: StorageError.timestampOutOfRange(1 << 63)) {
            try Self.put(store, "k", ts: 1 << 63, "v", index: 1)
        }
        #expect(throws: StorageError.valueTooLarge(size: 9, limit: 8)) {
            try Self.put(store, "k", ts: 1, "123456789", index: 1)
        }
        #expect(try store.appliedIndex() == 0)
    }

    @Test func sealedAndCleartextVersionsCoexist() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        store.setSealer(makeStorageSealer())
        try Self.put(store, "k", ts: 1, "clear", index: 1)
        store.setSealsWrites(true)
        try Self.put(store, "k", ts: 2, "sealed", index: 2)
        #expect(try Self.value(store, "k", at: 1) == "clear")
        #expect(try Self.value(store, "k", at: 2) == "sealed")
        store.setSealer(nil)
        #expect(try Self.value(store, "k", at: 1) == "clear")
        #expect(throws: StorageError.sealerUnavailable) { try Self.value(store, "k", at: 2) }
    }

    @Test func garbageCollectionKeepsWhatReadersAtTheHorizonSee() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try Self.put(store, "a", ts: 1, "a1", index: 1)
        try Self.put(store, "a", ts: 2, "a2", index: 2)
        try Self.put(store, "a", ts: 5, "a5", index: 3)
        try Self.put(store, "b", ts: 1, "b1", index: 4)
        try Self.put(store, "b", ts: 2, nil, index: 5)
        try Self.put(store, "c", ts: 1, "c1", expire: 50, index: 6)
        let removed = try store.collectGarbage(horizonTS: 3, nowMillis: 100)
        #expect(removed == 4)  // a@1, b@1, b@2 (tombstone), c@1 (expired)
        #expect(try store.versions(of: Array("a".utf8)).map(\.commitTS) == [5, 2])
        #expect(try store.versions(of: Array("b".utf8)).isEmpty)
        #expect(try Self.value(store, "a", at: 3) == "a2")
        #expect(try Self.value(store, "a") == "a5")
    }
}
