import Encryption
import Foundation
import KV
import Storage
import Testing
import TestSupport

/// Re-sealing stored versions in place (``WriteTransaction/resealVersions(after:through:keeping:)``) and the
/// replicated run a rewrite chunk advances (``StorageRewrite``).
@Suite struct StorageRewriteTests {
    static let oldKey: KeyID = 0x0000_0011
    static let newKey: KeyID = 0x0000_0022

    /// The one sealer of `keystore` (a keystore has exactly one keyring); it seals under the active key.
    static func sealer(_ keystore: Keystore) -> EnvelopeValueSealer {
        let keyring = SealingKeyring(keystore: keystore, node16: 1)
        for id in [oldKey, newKey] { try! keyring.setLocalEpoch(0, for: id) }
        return EnvelopeValueSealer(keyring: keyring, compression: .none)
    }

    static func keystore() -> Keystore {
        let keystore = Keystore()
        for id in [oldKey, newKey] { try! keystore.install(DataEncryptionKey.generate(), id: id, purpose: .storage) }
        return keystore
    }

    static func put(_ store: MVCCStore, _ key: String, ts: UInt64, tombstone: Bool = false) throws {
        try store.write { (tx) throws(StorageError) in
            try tx.put(StoredVersion(key: Array(key.utf8), commitTS: ts, isTombstone: tombstone, expireAtMillis: 0,
                                     body: tombstone ? [] : Array("CANARY-\(key)-\(ts)".utf8)))
        }
    }

    /// A store with cleartext versions of a and b, versions of b, c, d under the old key and a tombstone of e;
    /// the new key is active afterwards.
    static func mixedStore(_ dir: TemporaryDirectory, _ sealer: EnvelopeValueSealer, _ keystore: Keystore) throws
        -> MVCCStore
    {
        let store = try MVCCStore(path: dir.file("kv.db"))
        try put(store, "a", ts: 1)
        try put(store, "b", ts: 2)
        try keystore.activate(id: oldKey, for: .storage)
        store.setSealer(sealer)
        store.setSealsWrites(true)
        try put(store, "b", ts: 3)
        try put(store, "c", ts: 4)
        try put(store, "d", ts: 5)
        try put(store, "e", ts: 6, tombstone: true)
        try keystore.activate(id: newKey, for: .storage)
        return store
    }

    static func position(_ key: String, _ ts: UInt64) -> RowPosition { RowPosition(key: Array(key.utf8), ts: ts) }

    @Test func aRangeIsResealedUnderTheKeptKeyAndReadsTheSame() throws {
        let dir = TemporaryDirectory("rewrite")
        defer { dir.remove() }
        let keystore = Self.keystore()
        let store = try Self.mixedStore(dir, Self.sealer(keystore), keystore)
        defer { store.close() }
        #expect(try store.countVersionsNeedingReseal(keeping: Self.newKey) == 5)
        let first = try store.write { (tx) throws(StorageError) in
            try tx.resealVersions(after: nil, through: Self.position("b", 2), keeping: Self.newKey)
        }
        #expect(first == (examined: 2, resealed: 2))
        #expect(try store.countVersionsNeedingReseal(keeping: Self.newKey) == 3)
        let rest = try store.write { (tx) throws(StorageError) in
            try tx.resealVersions(after: Self.position("b", 2), through: nil, keeping: Self.newKey)
        }
        #expect(rest == (examined: 4, resealed: 3), "the tombstone is examined, not re-sealed")
        #expect(try store.countVersionsNeedingReseal(keeping: Self.newKey) == 0)
        #expect(try store.countVersions(sealedWithKeyID: Self.oldKey) == 0)
        #expect(try store.countVersions(sealedWithKeyID: Self.newKey) == 5)
        for (key, ts) in [("a", UInt64(1)), ("b", 2), ("b", 3), ("c", 4), ("d", 5)] {
            #expect(try store.get(Array(key.utf8), at: ts, nowMillis: 0)?.body == Array("CANARY-\(key)-\(ts)".utf8))
        }
        let again = try store.write { (tx) throws(StorageError) in
            try tx.resealVersions(after: nil, through: nil, keeping: Self.newKey)
        }
        #expect(again == (examined: 6, resealed: 0))
        try store.checkpoint()
        let file = [UInt8](FileManager.default.contents(atPath: dir.file("kv.db")) ?? Data())
        #expect(!file.contains(subsequence: Array("CANARY-".utf8)), "no cleartext left in the file")
    }

    @Test func resealingRefusesAStoreThatDoesNotSeal() throws {
        let dir = TemporaryDirectory("rewrite")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("kv.db"))
        defer { store.close() }
        try Self.put(store, "a", ts: 1)
        #expect(throws: StorageError.sealerUnavailable) {
            try store.write { (tx) throws(StorageError) in
                _ = try tx.resealVersions(after: nil, through: nil, keeping: Self.newKey)
            }
        }
    }

    static func chunk(_ target: KeyID, start: RowPosition?, end: RowPosition?, examined: UInt32 = 2)
        -> EncryptionEntry.RewriteChunk
    {
        EncryptionEntry.RewriteChunk(targetKeyID: target, rowsPerSecond: 100, examinedRows: examined,
                                     start: start.map(EncryptionEntry.RowPosition.init),
                                     end: end.map(EncryptionEntry.RowPosition.init))
    }

    static func apply(_ store: MVCCStore, _ chunk: EncryptionEntry.RewriteChunk, index: UInt64) throws
        -> StorageRewrite?
    {
        try store.write { (tx) throws(StorageError) in try StorageRewrite.apply(chunk, index: index, in: tx) }
    }

    @Test func chunksAdvanceTheReplicatedCursorAndOnlyContinueTheirRun() throws {
        let dir = TemporaryDirectory("rewrite")
        defer { dir.remove() }
        let keystore = Self.keystore()
        let sealer = Self.sealer(keystore)
        let store = try Self.mixedStore(dir, sealer, keystore)
        #expect(try StorageRewrite.load(from: store) == nil)
        let mid = Self.position("b", 3)
        let first = try #require(try Self.apply(store, Self.chunk(Self.newKey, start: nil, end: mid, examined: 3), index: 50))
        #expect(first.cursor == mid && !first.isFinished && first.examinedRows == 3 && first.resealedRows == 3)
        #expect(try store.rewriteCursor(StorageRewrite.cursorName) == mid)
        // A chunk from another cursor, or under another target, is superseded: nothing changes.
        #expect(try Self.apply(store, Self.chunk(Self.newKey, start: Self.position("a", 1), end: Self.position("c", 4)),
                               index: 51) == nil)
        #expect(try Self.apply(store, Self.chunk(Self.oldKey, start: mid, end: nil), index: 52) == nil)
        #expect(try StorageRewrite.load(from: store) == first)
        #expect(try store.countVersionsNeedingReseal(keeping: Self.newKey) == 2)
        store.close()
        // The run survives a restart of the store and finishes with the last chunk.
        let reopened = try MVCCStore(path: dir.file("kv.db"))
        defer { reopened.close() }
        reopened.setSealer(sealer)
        reopened.setSealsWrites(true)
        #expect(try StorageRewrite.load(from: reopened) == first)
        let last = try #require(try Self.apply(reopened, Self.chunk(Self.newKey, start: mid, end: nil, examined: 3),
                                               index: 53))
        #expect(last.isFinished && last.finishedIndex == 53 && last.cursor == nil)
        #expect(last.examinedRows == 6 && last.resealedRows == 5 && last.startedIndex == 50)
        #expect(try reopened.rewriteCursor(StorageRewrite.cursorName) == nil)
        #expect(try reopened.countVersionsNeedingReseal(keeping: Self.newKey) == 0)
        // A finished run takes no further chunk; a new run starts over.
        #expect(try Self.apply(reopened, Self.chunk(Self.newKey, start: mid, end: nil), index: 54) == nil)
        let again = try #require(try Self.apply(reopened, Self.chunk(Self.newKey, start: nil, end: nil, examined: 6),
                                                index: 60))
        #expect(again.startedIndex == 60 && again.examinedRows == 6 && again.resealedRows == 0 && again.isFinished)
    }

    @Test func aCorruptRunRecordIsATypedError() throws {
        let dir = TemporaryDirectory("rewrite")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("kv.db"))
        defer { store.close() }
        for bytes in [[UInt8](), [2] + [UInt8](repeating: 0, count: 41), [1] + [UInt8](repeating: 0, count: 4) + [7]
                      + [UInt8](repeating: 0, count: 36), [1] + [UInt8](repeating: 0, count: 40)] {
            try store.write { (tx) throws(StorageError) in try tx.setMeta(StorageRewrite.metaName, value: bytes) }
            #expect(throws: StorageError.self) { try StorageRewrite.load(from: store) }
        }
    }
}
