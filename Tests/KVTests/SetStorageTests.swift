import Encryption
import Foundation
import KV
import Storage
import Testing
import TestSupport

/// Sets as element rows: SPOP takes the same members on every replica, members are named by the index key
/// (never by their bytes), and a set keeps the index it was created with after the cluster gets its key.
@Suite struct SetStorageTests {
    final class Replica {
        let dir: TemporaryDirectory
        let store: MVCCStore
        let machine: KVStateMachine
        var index: UInt64 = 0

        init(_ name: String, indexes: ElementIndexes = ElementIndexes()) throws {
            dir = TemporaryDirectory(name)
            store = try MVCCStore(path: dir.file("db"))
            machine = KVStateMachine(store: store)
            machine.elementIndexes = indexes
            reader = KVReader(store: store, elementIndexes: indexes)
            self.indexes = indexes
        }

        let reader: KVReader
        let indexes: ElementIndexes

        deinit {
            store.close()
            dir.remove()
        }

        @discardableResult
        func run(_ commands: [Command], at now: UInt64 = 1_000) -> [CommandResult] {
            index += 1
            let entry = CommandEntry(proposedTS: now * 1000 + index, nowMillis: now, commands: commands)
            return machine.apply([CommittedEntry(index: index, term: 1, data: entry.encoded())]).results[index] ?? []
        }

        func members(_ key: String) throws -> Set<[UInt8]> {
            guard case .set(let header)? = try reader.lookup(Array(key.utf8), nowMillis: 1_000)?.value else { return [] }
            return Set(try reader.setMembers(header))
        }
    }

    static func words(_ items: String...) -> [[UInt8]] { items.map { Array($0.utf8) } }

    @Test func spopTakesTheSameMembersOnEveryReplica() throws {
        let first = try Replica("spop-a"), second = try Replica("spop-b")
        let members = (0..<50).map { Array("member-\($0)".utf8) }
        let log: [[Command]] = [
            [.sets(.add(key: Array("s".utf8), members: members))],
            [.sets(.pop(key: Array("s".utf8), count: 5))],
            [.sets(.pop(key: Array("s".utf8), count: nil)), .sets(.pop(key: Array("s".utf8), count: 3))],
        ]
        var popped: Set<[UInt8]> = []
        for commands in log {
            let answers = first.run(commands)
            #expect(second.run(commands) == answers, "both replicas answer the same")
            for case .reply(.set(let items)) in answers {
                for case .bulkString(let member) in items { popped.insert(member) }
            }
            for case .bulk(let member) in answers { popped.insert(member) }
        }
        #expect(popped.count == 9 && popped.isSubset(of: Set(members)), "SPOP returns distinct members of the set")
        #expect(try first.members("s") == Set(members).subtracting(popped))
        #expect(try second.members("s") == first.members("s"))
        // Popping more than the set holds takes everything and deletes the key.
        #expect(first.run([.sets(.pop(key: Array("s".utf8), count: 100))]).first.map {
            if case .reply(.set(let items)) = $0 { return items.count } else { return -1 }
        } == 41)
        #expect(try first.reader.lookup(Array("s".utf8), nowMillis: 1_000) == nil)
    }

    @Test func membersAreNamedByTheIndexKeyAndASetKeepsItsIndex() throws {
        let keystore = Keystore()
        let indexes = ElementIndexes(keystore: keystore)
        let replica = try Replica("set-index", indexes: indexes)
        // Before the cluster has an index key, new sets use the unkeyed index.
        replica.run([.sets(.add(key: Array("early".utf8), members: Self.words("a", "b")))])
        replica.run([.sets(.add(key: Array("untouched".utf8), members: Self.words("q")))])
        try keystore.install(try DataEncryptionKey(bytes: [UInt8](repeating: 7, count: 32)), id: 44, purpose: .index)
        try keystore.activate(id: 44, for: .index)
        replica.run([.sets(.add(key: Array("late".utf8), members: Self.words("a", "b")))])
        replica.run([.sets(.add(key: Array("early".utf8), members: Self.words("c")))])
        #expect(try replica.members("early") == Set(Self.words("a", "b", "c")))
        #expect(try replica.members("late") == Set(Self.words("a", "b")))
        guard case .set(let early)? = try replica.reader.lookup(Array("early".utf8), nowMillis: 0)?.value,
              case .set(let late)? = try replica.reader.lookup(Array("late".utf8), nowMillis: 0)?.value else {
            Issue.record("both keys hold sets")
            return
        }
        #expect(early.indexKeyID == 44 && late.indexKeyID == 44,
                "a set created before the index key moves to it when members are next added")
        // The element rows are named by the index, so no row key holds a member's bytes.
        let keyed = try #require(keystore.elementIndex(keyID: 44))
        let rows = try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 100)
        let parts = rows.map { Array($0.key.dropFirst(9)) }
        #expect(parts.count == 6, "early's unkeyed rows were deleted when it moved")
        #expect(Set(parts) == Set([ElementIndex.unkeyed.name(Array("q".utf8)), keyed.name(Array("a".utf8)),
                                   keyed.name(Array("b".utf8)), keyed.name(Array("c".utf8))]))
        guard case .set(let untouched)? = try replica.reader.lookup(Array("untouched".utf8), nowMillis: 0)?.value else {
            Issue.record("untouched holds a set")
            return
        }
        #expect(untouched.indexKeyID == 0, "a set nobody adds to keeps its index")
        #expect(try replica.members("untouched") == Set(Self.words("q")))
        #expect(replica.run([.sets(.store(.intersection, destination: Array("both".utf8),
                                          keys: [Array("early".utf8), Array("late".utf8)]))]) == [.integer(2)])
        // A reader without the index key cannot look members up and says so rather than answer wrongly.
        let blind = KVReader(store: replica.store)
        #expect(throws: StorageError.sealerUnavailable) { try blind.setContains(late, Array("a".utf8)) }
    }
}

/// A store records the keyspace layout it was written with; one written before it is refused at start-up
/// instead of answering as if empty.
@Suite struct KeyspaceFormatTests {
    @Test func aNewStoreRecordsTheLayoutAndAnOlderOneIsRefused() throws {
        let dir = TemporaryDirectory("keyspace-format")
        defer { dir.remove() }
        let fresh = try MVCCStore(path: dir.file("new"))
        try KVStateMachine.adoptKeyspaceFormat(fresh)
        #expect(try fresh.meta("keyspace_format") == [KVStateMachine.keyspaceFormat])
        try KVStateMachine.adoptKeyspaceFormat(fresh)  // a restart
        fresh.close()

        let old = try MVCCStore(path: dir.file("old"))
        try old.write { (transaction) throws(StorageError) in
            try transaction.put(StoredVersion(key: Array("user-key".utf8), commitTS: 1, body: [0x00, 0x76]))
        }
        #expect(throws: KVError.self) { try KVStateMachine.adoptKeyspaceFormat(old) }
        try old.write { (transaction) throws(StorageError) in try transaction.setMeta("keyspace_format", value: [9]) }
        #expect(throws: KVError.self) { try KVStateMachine.adoptKeyspaceFormat(old) }
        old.close()
    }
}
