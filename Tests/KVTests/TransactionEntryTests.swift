import KV
import Storage
import Testing
import TestSupport

/// The 0x06 transaction entry: its codec, and what counts as a change of a watched key.
@Suite struct TransactionEntryTests {
    static let sample = TransactionEntry(
        proposedTS: 7, nowMillis: 8,
        watches: [.init(key: [1], version: 3, wasLive: true, expireAtMillis: 0),
                  .init(key: [], version: 0, wasLive: false, expireAtMillis: 99)],
        commands: [[Array("SET".utf8), [1], [2]], [Array("GET".utf8), [1]]])

    @Test func roundTripsAndStartsWithItsOpcode() throws {
        let encoded = Self.sample.encoded()
        #expect(encoded.first == Opcode.transaction.rawValue)
        #expect(try TransactionEntry(decoding: encoded) == Self.sample)
        let empty = TransactionEntry(proposedTS: 1, nowMillis: 2, watches: Self.sample.watches, commands: [])
        #expect(try TransactionEntry(decoding: empty.encoded()) == empty, "watches alone: EXEC of connection commands")
    }

    @Test func everyTruncationTrailingByteAndBadFieldIsRejected() {
        let encoded = Self.sample.encoded()
        for length in 0..<encoded.count {
            #expect(throws: KVError.self) { try TransactionEntry(decoding: Array(encoded[0..<length])) }
        }
        #expect(throws: KVError.self) { try TransactionEntry(decoding: encoded + [0]) }
        var badVersion = encoded
        badVersion[1] = 2
        #expect(throws: KVError.self) { try TransactionEntry(decoding: badVersion) }
        var badFlags = encoded
        badFlags[2 + 8 + 8 + 4 + 4 + 1 + 8] = 2  // the first watch's flags byte
        #expect(throws: KVError.self) { try TransactionEntry(decoding: badFlags) }
        var noArguments = TransactionEntry(proposedTS: 1, nowMillis: 2, watches: [], commands: [[]]).encoded()
        #expect(throws: KVError.self) { try TransactionEntry(decoding: noArguments) }
        noArguments[0] = Opcode.batch.rawValue
        #expect(throws: KVError.self) { try TransactionEntry(decoding: noArguments) }
    }

    @Test func aWatchedKeyChangesWhenRewrittenDeletedOrExpired() {
        let live = TransactionEntry.Watch(key: [1], version: 10, wasLive: true, expireAtMillis: 0)
        #expect(!live.changed(newestCommitTS: 10, nowMillis: 5))
        #expect(live.changed(newestCommitTS: 11, nowMillis: 5), "a newer version, even of the same value")
        #expect(live.changed(newestCommitTS: nil, nowMillis: 5), "gone although it was live")
        let volatile = TransactionEntry.Watch(key: [1], version: 10, wasLive: true, expireAtMillis: 100)
        #expect(!volatile.changed(newestCommitTS: 10, nowMillis: 99))
        #expect(volatile.changed(newestCommitTS: 10, nowMillis: 100), "expired since WATCH")
        let absent = TransactionEntry.Watch(key: [1], version: 10, wasLive: false, expireAtMillis: 0)
        #expect(!absent.changed(newestCommitTS: nil, nowMillis: 5), "a deleted key's tombstone collected is no change")
        #expect(!absent.changed(newestCommitTS: 10, nowMillis: 5))
        #expect(absent.changed(newestCommitTS: 12, nowMillis: 5))
        let never = TransactionEntry.Watch(key: [1], version: 0, wasLive: false, expireAtMillis: 0)
        #expect(!never.changed(newestCommitTS: nil, nowMillis: 5))
        #expect(never.changed(newestCommitTS: 1, nowMillis: 5))
    }

    @Test func aStateMachineWithoutATransactionApplierHalts() throws {
        let dir = TemporaryDirectory("transaction-halt")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        let machine = KVStateMachine(store: store)
        let outcome = machine.apply([CommittedEntry(index: 1, term: 1, data: Self.sample.encoded())])
        #expect(outcome.halt?.cause == .transactionsNotConfigured)
        #expect(outcome.appliedIndex == 0)
    }
}
