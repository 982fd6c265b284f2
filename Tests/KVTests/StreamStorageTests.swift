@testable import KV
import Storage
import Testing
import TestSupport

/// Streams as element rows in id order (docs/formats.md §2a): ids follow Redis's rules from the entry's
/// clock, ranges read rows in order, XDEL and XTRIM leave an empty stream, and deleting the key leaves no row.
@Suite struct StreamStorageTests {
    typealias Replica = SetStorageTests.Replica
    static let key = Array("s".utf8)

    static func add(_ id: StreamIDRequest, trim: StreamTrim? = nil) -> Command {
        .streams(.add(key: key, id: id, fields: [Array("f".utf8), Array("v".utf8)], makeStream: true, trim: trim))
    }

    static func header(_ replica: Replica) throws -> StreamHeader? {
        guard case .stream(let header)? = try replica.reader.lookup(key, nowMillis: 1_000)?.value else { return nil }
        return header
    }

    @Test func idsFollowRedisRules() throws {
        let last = StreamID(5, 3)
        #expect(try CommandExecutor.nextID(.auto, after: last, now: 9) == StreamID(9, 0))
        #expect(try CommandExecutor.nextID(.auto, after: last, now: 5) == StreamID(5, 4), "the clock went back")
        #expect(try CommandExecutor.nextID(.auto, after: StreamID(5, .max), now: 2) == StreamID(6, 0))
        #expect(try CommandExecutor.nextID(.autoSequence(5), after: last, now: 0) == StreamID(5, 4))
        #expect(try CommandExecutor.nextID(.autoSequence(7), after: last, now: 0) == StreamID(7, 0))
        #expect(try CommandExecutor.nextID(.autoSequence(0), after: .zero, now: 0) == StreamID(0, 1))
        #expect(throws: CommandError.streamIDTooSmall) { try CommandExecutor.nextID(.autoSequence(4), after: last, now: 0) }
        #expect(throws: CommandError.streamIDTooSmall) { try CommandExecutor.nextID(.explicit(last), after: last, now: 0) }
        #expect(throws: CommandError.streamExhausted) { try CommandExecutor.nextID(.auto, after: .max, now: 0) }
        #expect(StreamID("12-34") == StreamID(12, 34) && StreamID("1") == nil && StreamID.max.next == nil)
        #expect(StreamID.zero.previous == nil && StreamID(3, 0).previous == StreamID(2, .max))
    }

    @Test func entriesAreRowsInIdOrderAndTheStreamOutlivesThem() throws {
        let replica = try Replica("stream")
        for ms in [3, 1, 2] as [UInt64] { _ = replica.run([Self.add(.explicit(StreamID(ms * 10, 0)))]) }
        #expect(replica.run([Self.add(.explicit(StreamID(5, 0)))]) == [.error(.streamIDTooSmall)])
        // An id is not taken twice in one entry, and `*` uses the entry's clock (1,000 ms here).
        #expect(replica.run([Self.add(.auto), Self.add(.auto)]) == [.bulk(Array("1000-0".utf8)), .bulk(Array("1000-1".utf8))])
        var header = try #require(try Self.header(replica))
        #expect(header.count == 3 && header.lastID == StreamID(1_000, 1) && header.entriesAdded == 3)
        #expect(try replica.reader.streamEntries(header, from: .zero, to: .max).map(\.id)
                == [StreamID(30, 0), StreamID(1_000, 0), StreamID(1_000, 1)],
                "30-0 came first; 10-0 and 20-0 were refused as smaller")
        #expect(try replica.reader.streamEntries(header, from: StreamID(11, 0), to: StreamID(1_000, 0), reverse: true,
                                                 count: 1).map(\.id) == [StreamID(1_000, 0)])
        #expect(replica.run([.streams(.delete(key: Self.key, ids: [StreamID(30, 0), StreamID(31, 0)]))]) == [.integer(1)])
        #expect(replica.run([.streams(.trim(key: Self.key, StreamTrim(.minID(StreamID(1_000, 1)))))]) == [.integer(1)])
        header = try #require(try Self.header(replica))
        #expect(header.count == 1 && header.maxDeletedID == StreamID(30, 0))
        #expect(replica.run([.streams(.trim(key: Self.key, StreamTrim(.maxLength(0))))]) == [.integer(1)])
        header = try #require(try Self.header(replica), "an emptied stream is still a key")
        #expect(header.count == 0 && header.lastID == StreamID(1_000, 1))
        #expect(replica.run([Self.add(.auto, trim: StreamTrim(.maxLength(1), approximate: true, limit: 10))])
                == [.bulk(Array("1000-2".utf8))], "`*` goes after the last id even once its entry is gone")
        #expect(replica.run([.delete(keys: [Self.key])]) == [.integer(1)])
        #expect(try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 100).isEmpty,
                "deleting the stream leaves no entry row")
    }

    @Test func malformedEntriesAndHeadersAreRefused() throws {
        #expect(throws: StorageError.self) { try StreamEntry.decodeBody([0, 0, 0, 0], id: .zero) }
        #expect(throws: StorageError.self) { try StreamEntry.decodeBody([0, 0, 0, 1, 0, 0, 0, 9], id: .zero) }
        let body = StreamEntry.encodeBody([[1], [2, 3]])
        #expect(try StreamEntry.decodeBody(body, id: .zero).fields == [[1], [2, 3]])
        #expect(throws: StorageError.self) { try StreamEntry.decodeBody(body + [0], id: .zero) }
        var badCount = StreamHeader(generation: 1, count: 2, entriesAdded: 1).encoded()
        #expect(throws: KVError.self) { try RedisValue(decoding: badCount) }
        badCount.removeLast()
        #expect(throws: KVError.self) { try RedisValue(decoding: badCount) }
    }
}
