import Storage
import Testing
import TestSupport

/// Failure injected before every SQLite step of the write path: after reopening, the store holds exactly
/// the state of its last committed applied index.
@Suite struct MVCCStoreCrashTests {
    struct InjectedCrash: Error {}

    final class Counter: @unchecked Sendable {
        var steps = 0
        var failAt = Int.max
    }

    /// Applies batch `n` (1-based): three keys rewritten, one deleted, applied index n.
    static func applyBatch(_ store: MVCCStore, _ n: UInt64) throws {
        try store.write { (tx) throws(StorageError) in
            for key in ["x", "y", "z"] {
                try tx.put(StoredVersion(key: Array(key.utf8), commitTS: n * 10, body: Array("\(key)\(n)".utf8)))
            }
            try tx.put(StoredVersion(key: Array("gone".utf8), commitTS: n * 10, isTombstone: n % 2 == 0))
            try tx.setMeta("flag", value: [UInt8(n)])
            try tx.setAppliedIndex(n)
        }
    }

    static func expectState(_ store: MVCCStore, atBatch n: UInt64) throws {
        #expect(try store.appliedIndex() == n)
        for key in ["x", "y", "z"] {
            let value = try store.get(Array(key.utf8), nowMillis: 0).map { String(decoding: $0.body, as: UTF8.self) }
            #expect(value == (n == 0 ? nil : "\(key)\(n)"))
        }
        #expect(try store.meta("flag") == (n == 0 ? nil : [UInt8(n)]))
        #expect(try store.versions(of: Array("x".utf8)).count == Int(n))
    }

    @Test func failureBeforeAnyStepLeavesTheLastCommittedState() throws {
        let counter = Counter()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try MVCCStore(path: dir.file("probe"))
            store.setStepHook { _ in counter.steps += 1 }
            try Self.applyBatch(store, 1)
            store.close()
        }
        let stepsPerBatch = counter.steps
        #expect(stepsPerBatch >= 8)
        for failAt in 0..<stepsPerBatch {
            let path = dir.file("db\(failAt)")
            do {
                let store = try MVCCStore(path: path)
                try Self.applyBatch(store, 1)
                let local = Counter()
                local.failAt = failAt
                store.setStepHook { _ in
                    defer { local.steps += 1 }
                    if local.steps == local.failAt { throw InjectedCrash() }
                }
                #expect(throws: (any Error).self) { try Self.applyBatch(store, 2) }
                store.close()
            }
            let reopened = try MVCCStore(path: path)
            try Self.expectState(reopened, atBatch: 1)
            try Self.applyBatch(reopened, 2)
            try Self.expectState(reopened, atBatch: 2)
            reopened.close()
        }
    }

    @Test func savepointUndoesOnlyTheFailingEntry() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        try store.write { (tx) throws(StorageError) in
            try tx.withSavepoint { () throws(StorageError) in
                try tx.put(StoredVersion(key: [1], commitTS: 1, body: [1]))
                try tx.setAppliedIndex(1)
            }
            _ = try? tx.withSavepoint { () throws(StorageError) in
                try tx.put(StoredVersion(key: [2], commitTS: 2, body: [2]))
                throw StorageError.integrityFailure
            }
        }
        #expect(try store.appliedIndex() == 1)
        #expect(try store.get([1], nowMillis: 0) != nil)
        #expect(try store.get([2], nowMillis: 0) == nil)
    }
}
