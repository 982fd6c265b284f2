import Storage
import TestSupport
import Testing

/// What the store reports about key use: ``MVCCStore/countVersions(sealedWithKeyID:)`` (retirement checks) and
/// ``MVCCStore/registryRows()`` (the writer registry as a whole).
@Suite struct StoreKeyUsageTests {
    static let keyA: UInt32 = 0x1111_1111
    static let keyB: UInt32 = 0x2222_2222

    static func put(
        _ store: MVCCStore, _ key: String, ts: UInt64, body: [UInt8] = Array("value".utf8), tombstone: Bool = false,
        expire: UInt64 = 0
    ) throws {
        try store.write { (tx) throws(StorageError) in
            try tx.put(
                StoredVersion(
                    key: Array(key.utf8), commitTS: ts, isTombstone: tombstone, expireAtMillis: expire, body: body))
        }
    }

    /// A store that seals every write under `keyID`.
    static func sealingStore(_ dir: TemporaryDirectory, keyID: UInt32) throws -> MVCCStore {
        let store = try MVCCStore(path: dir.file("db"))
        store.setSealer(makeStorageSealer(keyID: keyID))
        store.setSealsWrites(true)
        return store
    }

    /// Bytes that look like the start of a storage envelope under `keyID`: version, flags, big-endian key id.
    static func envelopeLookalike(_ keyID: UInt32) -> [UInt8] {
        [0x01, 0x00] + (0..<4).map { UInt8(truncatingIfNeeded: keyID >> (24 - 8 * UInt32($0))) }
            + [UInt8](repeating: 0xEE, count: 40)
    }

    // MARK: - countVersions(sealedWithKeyID:)

    @Test func anEmptyStoreHasNoVersionUnderAnyKey() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 0)
    }

    @Test func everySealedVersionUnderTheKeyIsCounted() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: Self.keyA)
        defer { store.close() }

        try Self.put(store, "k1", ts: 1)
        try Self.put(store, "k1", ts: 2)
        try Self.put(store, "k2", ts: 3)

        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 3)
    }

    @Test func versionsUnderAnotherKeyAreNotCounted() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: Self.keyA)
        defer { store.close() }
        try Self.put(store, "k1", ts: 1)
        try Self.put(store, "k2", ts: 2)
        store.setSealer(makeStorageSealer(keyID: Self.keyB))
        try Self.put(store, "k3", ts: 3)

        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 2)
        #expect(try store.countVersions(sealedWithKeyID: Self.keyB) == 1)
        #expect(try store.countVersions(sealedWithKeyID: 0x3333_3333) == 0)
    }

    @Test func cleartextVersionsAreNotCountedEvenWhenTheirBodyLooksLikeAnEnvelope() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        store.setSealer(makeStorageSealer(keyID: Self.keyA))
        try Self.put(store, "plain", ts: 1)
        try Self.put(store, "lookalike", ts: 2, body: Self.envelopeLookalike(Self.keyA))

        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 0)
        store.setSealsWrites(true)
        try Self.put(store, "sealed", ts: 3)
        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 1)
    }

    @Test func tombstonesAreNotCounted() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: Self.keyA)
        defer { store.close() }
        try Self.put(store, "k", ts: 1)
        try Self.put(store, "k", ts: 2, body: [], tombstone: true)
        try Self.put(store, "other", ts: 3, body: Self.envelopeLookalike(Self.keyA), tombstone: true)

        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 1)
    }

    @Test func expiredSealedVersionsStillCount() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: Self.keyA)
        defer { store.close() }
        try Self.put(store, "k", ts: 1, expire: 1_000)

        #expect(try store.get(Array("k".utf8), nowMillis: 2_000) == nil, "the version is expired")
        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 1)
    }

    @Test(arguments: [0x0A0B_0C0D, 0x9ABC_DEF0, 0xFFFF_FFFF, 0x0000_0001] as [UInt32])
    func theKeyIDIsMatchedOnAllFourBigEndianBytes(keyID: UInt32) throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: keyID)
        defer { store.close() }
        try Self.put(store, "k", ts: 1)

        #expect(try store.countVersions(sealedWithKeyID: keyID) == 1)
        #expect(try store.countVersions(sealedWithKeyID: keyID.byteSwapped) == (keyID.byteSwapped == keyID ? 1 : 0))
        for byte in 0..<4 {
            let neighbour = keyID ^ (UInt32(1) << (8 * UInt32(byte)))
            #expect(try store.countVersions(sealedWithKeyID: neighbour) == 0, "key id \(neighbour)")
        }
    }

    @Test func garbageCollectedVersionsNoLongerCount() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try Self.sealingStore(dir, keyID: Self.keyA)
        defer { store.close() }
        try Self.put(store, "k", ts: 1)
        try Self.put(store, "k", ts: 2)
        try Self.put(store, "k", ts: 3)

        try store.collectGarbage(horizonTS: 3, nowMillis: 0)

        #expect(try store.countVersions(sealedWithKeyID: Self.keyA) == 1)
    }

    // MARK: - registryRows()

    static func setRows(_ store: MVCCStore, _ rows: [RegistryRow]) throws {
        try store.write { (tx) throws(StorageError) in
            for row in rows { try tx.setRegistryRow(row) }
        }
    }

    /// A row of node `0x1_0000_<node16>` under `dek`.
    static func row(_ dek: UInt32, _ node16: UInt16, epochs: ClosedRange<UInt16> = 0...0) -> RegistryRow {
        RegistryRow(
            dekID: dek, node16: node16, fullNodeID: 0x0000_0001_0000_0000 | UInt64(node16),
            firstSeenLocalEpoch: epochs.lowerBound, lastSeenLocalEpoch: epochs.upperBound)
    }

    @Test func anEmptyStoreHasNoRegistryRows() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        #expect(try store.registryRows().isEmpty)
    }

    @Test func registryRowsReturnsEveryRowOrderedByKeyIDThenNode16() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        let rows = [
            Self.row(0xFFFF_FFF0, 2), Self.row(7, 0xFFFF), Self.row(0x8000_0000, 1), Self.row(7, 3),
            Self.row(12, 0), Self.row(7, 0x8000), Self.row(0xFFFF_FFF0, 1),
        ]
        try Self.setRows(store, rows)

        let read = try store.registryRows()

        #expect(
            read.map { [UInt64($0.dekID), UInt64($0.node16)] } == [
                [7, 3], [7, 0x8000], [7, 0xFFFF], [12, 0], [0x8000_0000, 1], [0xFFFF_FFF0, 1], [0xFFFF_FFF0, 2],
            ])
        #expect(Set(read) == Set(rows))
    }

    @Test func registryRowsKeepsEveryFieldOfARow() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        let row = RegistryRow(
            dekID: 0x9ABC_DEF0, node16: 0xBEEF, fullNodeID: 0xF123_4567_89AB_BEEF, firstSeenLocalEpoch: 3,
            lastSeenLocalEpoch: 0xFFFF)
        try Self.setRows(store, [row])

        #expect(try store.registryRows() == [row])
    }

    @Test func registryRowsShowsAReplacedRowOnceWithItsNewValues() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try Self.setRows(store, [Self.row(7, 1, epochs: 0...0), Self.row(7, 2)])
        try Self.setRows(store, [Self.row(7, 1, epochs: 0...4)])

        #expect(try store.registryRows() == [Self.row(7, 1, epochs: 0...4), Self.row(7, 2)])
    }

    @Test func registryRowsOmitsRowsOfARemovedKey() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try Self.setRows(store, [Self.row(7, 1), Self.row(8, 1), Self.row(7, 2), Self.row(9, 1)])
        try store.write { (tx) throws(StorageError) in try tx.removeRegistryRows(dekID: 7) }

        #expect(try store.registryRows() == [Self.row(8, 1), Self.row(9, 1)])
    }

    @Test func registryRowsOmitsRowsOfARolledBackTransaction() throws {
        let dir = TemporaryDirectory("key-usage")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        try Self.setRows(store, [Self.row(7, 1)])

        #expect(throws: StorageError.sealerUnavailable) {
            try store.write { (tx) throws(StorageError) in
                try tx.setRegistryRow(Self.row(8, 1))
                throw StorageError.sealerUnavailable
            }
        }

        #expect(try store.registryRows() == [Self.row(7, 1)])
    }
}
