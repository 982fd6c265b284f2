@testable import KV
import RESP
import Storage
import Testing
import TestSupport

/// Consumer groups as rows of the stream (docs/formats.md §2a): delivery, the pending entries list with its
/// counts, acknowledgement, history reads, consumer deletion and group destruction leave no stray row.
@Suite struct StreamGroupTests {
    typealias Replica = SetStorageTests.Replica
    static let key = Array("s".utf8), group = Array("g".utf8)
    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func read(_ consumer: String, _ id: StreamGroupReadID, count: Int = 0, noAck: Bool = false) -> Command {
        .streamGroups(.read(group: group, consumer: b(consumer), keys: [key], ids: [id], count: count, noAck: noAck))
    }

    static func entries(_ result: CommandResult?) -> [String] {
        guard case .reply(.pairArrays(let pairs))? = result, case .array(let items) = pairs.first?.value else { return [] }
        return items.compactMap { item in
            guard case .array(let parts) = item, case .bulkString(let id) = parts.first else { return nil }
            return String(decoding: id, as: UTF8.self)
        }
    }

    @Test func deliveryPendingAcknowledgementAndHistory() throws {
        let replica = try Replica("stream-groups")
        for ms in 1...4 as ClosedRange<UInt64> {
            replica.run([.streams(.add(key: Self.key, id: .explicit(StreamID(ms, 0)), fields: [Self.b("f"), Self.b("\(ms)")],
                                       makeStream: true, trim: nil))])
        }
        #expect(replica.run([.streamGroups(.create(key: Self.key, group: Self.group, start: .id(.zero), makeStream: false,
                                                   entriesRead: nil))]) == [.ok])
        #expect(replica.run([.streamGroups(.create(key: Self.key, group: Self.group, start: .latest, makeStream: false,
                                                   entriesRead: nil))])
                == [.reply(.error("BUSYGROUP Consumer Group name already exists"))])
        #expect(Self.entries(replica.run([Self.read("alice", .new, count: 2)]).first) == ["1-0", "2-0"])
        #expect(Self.entries(replica.run([Self.read("bob", .new)]).first) == ["3-0", "4-0"])
        #expect(replica.run([Self.read("bob", .new)]) == [.reply(.nullArray)], "nothing new")
        #expect(replica.run([.streamGroups(.acknowledge(key: Self.key, group: Self.group,
                                                        ids: [StreamID(1, 0), StreamID(9, 0)]))]) == [.integer(1)])
        replica.run([.streams(.delete(key: Self.key, ids: [StreamID(4, 0)]))])
        // Bob's history: 3-0, and 4-0 without fields (deleted since).
        let history = replica.run([Self.read("bob", .history(.zero))]).first
        guard case .reply(.pairArrays(let pairs))? = history, case .array(let items) = pairs[0].value else {
            Issue.record("a history reply")
            return
        }
        #expect(items.count == 2 && items[1] == .array([.bulk("4-0"), .nullArray]))
        let header = try #require({ () throws -> StreamHeader? in
            guard case .stream(let found)? = try replica.reader.lookup(Self.key, nowMillis: 1_000)?.value else { return nil }
            return found
        }())
        let stored = try #require(try replica.reader.streamGroup(header, Self.group))
        #expect(stored.consumers.map(\.name) == [Self.b("alice"), Self.b("bob")])
        #expect(stored.consumers.map(\.pending) == [1, 2] && stored.lastDelivered == StreamID(4, 0))
        let pending = try replica.reader.pendingEntries(header, Self.group, from: .zero, to: .max, limit: 10)
        #expect(pending.map(\.id) == [StreamID(2, 0), StreamID(3, 0), StreamID(4, 0)])
        #expect(pending.map(\.deliveries) == [1, 2, 1], "a history read delivers again what still exists")
        #expect(replica.run([.streamGroups(.deleteConsumer(key: Self.key, group: Self.group, consumer: Self.b("bob")))])
                == [.integer(2)])
        #expect(try replica.reader.pendingEntries(header, Self.group, from: .zero, to: .max, limit: 10).map(\.id)
                == [StreamID(2, 0)])
        // NOACK delivers without a pending entry; SETID rewinds.
        #expect(replica.run([.streamGroups(.setID(key: Self.key, group: Self.group, start: .id(.zero), entriesRead: nil))])
                == [.ok])
        #expect(Self.entries(replica.run([Self.read("carol", .new, noAck: true)]).first) == ["1-0", "2-0", "3-0"])
        #expect(try replica.reader.pendingEntries(header, Self.group, from: .zero, to: .max, limit: 10).count == 1)
        #expect(replica.run([.streamGroups(.destroy(key: Self.key, group: Self.group))]) == [.integer(1)])
        let rows = try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 100)
        #expect(rows.allSatisfy { $0.key[9] == 0x00 }, "the group and its pending entries went with DESTROY")
        #expect(replica.run([Self.read("dave", .new)])
                == [.reply(.error("NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"))])
    }

    @Test func malformedGroupRowsAreRefused() throws {
        let group = StreamGroup(name: [1], lastDelivered: StreamID(1, 2), entriesRead: nil,
                                consumers: [.init(name: [2], seenAt: 3, pending: 4)])
        #expect(try StreamGroup(decoding: group.encoded()) == group)
        #expect(throws: StorageError.self) { try StreamGroup(decoding: group.encoded() + [0]) }
        #expect(throws: StorageError.self) { try StreamGroup(decoding: Array(group.encoded().dropLast())) }
        #expect(throws: StorageError.self) { try PendingEntry.decode([0, 0, 0, 9], id: .zero) }
    }
}
