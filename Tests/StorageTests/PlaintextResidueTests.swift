import Foundation
import Storage
import Testing
import TestSupport

/// A distinctive plaintext written in cleartext, then re-sealed in place, must leave no trace in the
/// database file or its WAL once checkpointed (`secure_delete` zeroes the freed bytes).
@Suite struct PlaintextResidueTests {
    static func fileContains(_ path: String, _ needle: [UInt8]) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        let bytes = [UInt8](data)
        guard bytes.count >= needle.count else { return false }
        outer: for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            for offset in 1..<needle.count where bytes[start + offset] != needle[offset] { continue outer }
            return true
        }
        return false
    }

    @Test func rewrittenPlaintextIsInNeitherDatabaseNorWAL() throws {
        let dir = TemporaryDirectory("residue")
        defer { dir.remove() }
        let path = dir.file("db")
        let secret = Array("ELASTICKV-DISTINCTIVE-PLAINTEXT-7f3a9c".utf8)
        let store = try MVCCStore(path: path)
        store.setSealer(makeStorageSealer())
        for n in 0..<200 as Range<UInt64> {
            try store.write { (tx) throws(StorageError) in
                try tx.put(StoredVersion(key: Array("key-\(n)".utf8), commitTS: n + 1, body: secret + [UInt8(n)]))
                try tx.setAppliedIndex(n + 1)
            }
        }
        try store.checkpoint()
        #expect(Self.fileContains(path, secret), "the test must first see the plaintext it looks for")
        store.setSealsWrites(true)
        for n in 0..<200 as Range<UInt64> {
            #expect(try store.rewriteVersion(key: Array("key-\(n)".utf8), commitTS: n + 1))
        }
        try store.checkpoint()
        #expect(!Self.fileContains(path, secret))
        #expect(!Self.fileContains(path + "-wal", secret))
        #expect(try store.get(Array("key-5".utf8), nowMillis: 0)?.body == secret + [5])
        store.close()
    }
}
