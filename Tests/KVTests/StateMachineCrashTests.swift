import KV
import Storage
import Testing
import TestSupport

/// A failure injected before any SQLite step of applying a batch: after reopening, the store is exactly at
/// its last committed applied index, and re-delivering the log from there gives the same final state as an
/// uninterrupted run (nothing applied twice, nothing skipped).
@Suite struct StateMachineCrashTests {
    struct InjectedCrash: Error {}

    final class StepCounter: @unchecked Sendable {
        var steps = 0
        var failAt = Int.max
    }

    static func log() -> [CommittedEntry] {
        let commands: [[Command]] = [
            [.set(key: [1], value: [10], condition: .always, expiry: .none, returnOld: false)],
            [.incrementBy(key: [2], delta: 5), .append(key: [1], value: [11])],
            [.hashSet(key: [3], fields: [.init([7], [70]), .init([8], [80])])],
            [.incrementBy(key: [2], delta: 5), .delete(keys: [[1]])],
            [.hashIncrementBy(key: [3], field: [9], delta: 2), .expireAt(key: [2], atMillis: 10_000)],
        ]
        return commands.enumerated().map { offset, batch in
            let entry = CommandEntry(proposedTS: UInt64(offset + 1) * 100, nowMillis: 1_000, commands: batch)
            return CommittedEntry(index: UInt64(offset + 1), term: 1, data: entry.encoded())
        }
    }

    static func state(_ store: MVCCStore) throws -> [KVReader.Entry?] {
        let reader = KVReader(store: store)
        return try (1...3).map { (key: UInt8) throws in try reader.lookup([key], nowMillis: 1_000) }
    }

    @Test func reapplyingAfterAnInjectedFailureConvergesToTheUninterruptedState() throws {
        let dir = TemporaryDirectory("kv-crash")
        defer { dir.remove() }
        let log = Self.log()
        let reference = try MVCCStore(path: dir.file("reference"))
        let firstHalf = Array(log[0..<2]), secondHalf = Array(log[2...])
        _ = KVStateMachine(store: reference).apply(firstHalf)
        let counter = StepCounter()
        reference.setStepHook { _ in counter.steps += 1 }
        _ = KVStateMachine(store: reference).apply(secondHalf)
        let expected = try Self.state(reference)
        #expect(try reference.appliedIndex() == 5)
        var prefixStates: [[KVReader.Entry?]] = []
        for length in 0...log.count {
            let prefix = try MVCCStore(path: dir.file("prefix\(length)"))
            _ = KVStateMachine(store: prefix).apply(Array(log[0..<length]))
            prefixStates.append(try Self.state(prefix))
            prefix.close()
        }
        for failAt in 0..<counter.steps {
            let path = dir.file("db\(failAt)")
            do {
                let store = try MVCCStore(path: path)
                #expect(KVStateMachine(store: store).apply(firstHalf).halt == nil)
                let local = StepCounter()
                local.failAt = failAt
                store.setStepHook { _ in
                    defer { local.steps += 1 }
                    if local.steps == local.failAt { throw InjectedCrash() }
                }
                let outcome = KVStateMachine(store: store).apply(secondHalf)
                #expect(outcome.halt != nil)
                store.close()
            }
            let reopened = try MVCCStore(path: path)
            // Entries before the failing one commit; the failing one and those after it do not.
            let applied = try reopened.appliedIndex()
            #expect((2...4).contains(applied))
            #expect(try Self.state(reopened) == prefixStates[Int(applied)])
            // The log is delivered again from the start: applied entries are skipped, the rest applied.
            let outcome = KVStateMachine(store: reopened).apply(log)
            #expect(outcome.halt == nil)
            #expect(outcome.appliedIndex == 5)
            #expect(try Self.state(reopened) == expected)
            let row = RedisKeyspace.primary([2])
            #expect(try reopened.versions(of: row) == reference.versions(of: row))
            reopened.close()
        }
    }

    @Test func unknownOpcodeHaltsWithoutAdvancingAndKeepsEarlierEntries() throws {
        let dir = TemporaryDirectory("kv-halt")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        var log = Self.log()
        log[2].data = [0x7F]
        let outcome = KVStateMachine(store: store).apply(log)
        #expect(outcome.halt?.index == 3)
        #expect(outcome.appliedIndex == 2)
        #expect(try store.appliedIndex() == 2)
        let again = KVStateMachine(store: store).apply(log)
        #expect(again.halt?.index == 3)
        #expect(try store.appliedIndex() == 2)
    }

    @Test func encryptionEntriesHaltWhenEncryptionIsNotConfigured() throws {
        let dir = TemporaryDirectory("kv-halt")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        for opcode: UInt8 in [0x02, 0x03, 0x04, 0x05] {
            let outcome = KVStateMachine(store: store).apply([CommittedEntry(index: 1, term: 1, data: [opcode, 1])])
            #expect(outcome.halt?.index == 1)
            #expect(try store.appliedIndex() == 0)
        }
    }

    @Test func malformedCommandEntryHalts() throws {
        let dir = TemporaryDirectory("kv-halt")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        let valid = Self.log()[1].data
        for length in 1..<valid.count {
            let outcome = KVStateMachine(store: store).apply([CommittedEntry(index: 1, term: 1,
                                                                             data: Array(valid[0..<length]))])
            #expect(outcome.halt?.index == 1, "truncated to \(length)")
        }
        #expect(try store.appliedIndex() == 0)
    }

    @Test func emptyEntriesAdvanceTheAppliedIndex() throws {
        let dir = TemporaryDirectory("kv-noop")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        let outcome = KVStateMachine(store: store).apply([CommittedEntry(index: 1, term: 2, data: [])])
        #expect(outcome.halt == nil)
        #expect(try store.appliedIndex() == 1)
    }
}
