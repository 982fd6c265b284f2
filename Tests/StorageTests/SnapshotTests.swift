import Storage
import Testing
import TestSupport

@Suite struct SnapshotTests {
    static let sealer = makeStorageSealer()

    static func populatedStore(_ dir: TemporaryDirectory, name: String = "source") throws -> MVCCStore {
        let store = try MVCCStore(path: dir.file(name))
        store.setSealer(sealer)
        try MVCCStoreTests.put(store, "clear", ts: 1, "plain", index: 1)
        store.setSealsWrites(true)
        for n in 2...50 as ClosedRange<UInt64> {
            try MVCCStoreTests.put(store, "k\(n % 7)", ts: n, n % 5 == 0 ? nil : "value-\(n)", index: n)
        }
        try store.write { (tx) throws(StorageError) in
            try tx.setMeta("storage_envelope_active", value: [1])
            try tx.setAppliedIndex(51)
        }
        return store
    }

    static func export(_ store: MVCCStore) throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        try store.exportSnapshot { chunks.append($0) }
        return chunks
    }

    static func importing(_ bytes: [UInt8], into store: MVCCStore, chunk: Int = 7) throws -> UInt64 {
        var offset = 0
        return try store.importSnapshot {
            guard offset < bytes.count else { return nil }
            defer { offset += chunk }
            return Array(bytes[offset..<min(offset + chunk, bytes.count)])
        }
    }

    @Test func roundTripCarriesEveryVersionAsStored() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let source = try Self.populatedStore(dir)
        let bytes = try Self.export(source).flatMap { $0 }
        let target = try MVCCStore(path: dir.file("target"))
        target.setSealer(Self.sealer)
        #expect(try Self.importing(bytes, into: target) == 51)
        #expect(try target.appliedIndex() == 51)
        #expect(try target.meta("storage_envelope_active") == [1])
        for n in 0..<7 {
            #expect(try target.versions(of: Array("k\(n)".utf8)) == source.versions(of: Array("k\(n)".utf8)))
        }
        #expect(try MVCCStoreTests.value(target, "clear") == "plain")
        // Exporting the imported store yields the same bytes: values travelled as stored.
        #expect(try Self.export(target).flatMap { $0 } == bytes)
    }

    @Test func everyTruncationIsRejectedAndLeavesTheTargetUnchanged() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bytes = try Self.export(try Self.populatedStore(dir)).flatMap { $0 }
        let target = try MVCCStore(path: dir.file("target"))
        try MVCCStoreTests.put(target, "mine", ts: 1, "keep", index: 3)
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 150)) {
            #expect(throws: StorageError.self) { try Self.importing(Array(bytes[0..<length]), into: target) }
        }
        #expect(try target.appliedIndex() == 3)
        #expect(try MVCCStoreTests.value(target, "mine") == "keep")
    }

    @Test func everyFlippedByteIsDetected() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bytes = try Self.export(try Self.populatedStore(dir)).flatMap { $0 }
        let target = try MVCCStore(path: dir.file("target"))
        for offset in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            var damaged = bytes
            damaged[offset] ^= 0x40
            #expect(throws: StorageError.self) { try Self.importing(damaged, into: target, chunk: 4096) }
        }
        #expect(throws: StorageError.self) { try Self.importing(bytes + [0], into: target, chunk: 4096) }
        #expect(try target.appliedIndex() == 0)
    }
}
