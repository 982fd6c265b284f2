import KV
import RESP
import RedisCommands
import Storage
import Testing
import TestSupport

@Suite struct ReadEvaluatorTests {
    final class Fixture {
        let dir = TemporaryDirectory("reads")
        let store: MVCCStore
        let machine: KVStateMachine
        let evaluator: ReadEvaluator<KVReader>
        let parser = RedisCommandParser()
        var index: UInt64 = 0
        let now: UInt64 = 10_000

        init() throws {
            store = try MVCCStore(path: dir.file("db"))
            machine = KVStateMachine(store: store)
            evaluator = ReadEvaluator(reader: KVReader(store: store), cursors: ScanCursors())
        }

        deinit {
            store.close()
            dir.remove()
        }

        /// Runs a command like a node would: writes through the state machine, reads through the evaluator.
        func run(_ words: String...) throws -> RESPValue {
            switch parser.parse(words.map { Array($0.utf8) }, nowMillis: now) {
            case .write(let command, let shape):
                index += 1
                let entry = CommandEntry(proposedTS: index, nowMillis: now, commands: [command])
                let outcome = machine.apply([CommittedEntry(index: index, term: 1, data: entry.encoded())])
                return shape.render(outcome.results[index]![0])
            case .read(let read): return try evaluator.evaluate(read, nowMillis: now)
            case .reply(let reply): return reply
            case .connection, .transaction, .blocking, .pubSub, .blockingRead, .script, .server, .acl:
                return .error("connection command")
            }
        }
    }

    @Test func stringsRoundTripWithRedisReplies() throws {
        let f = try Fixture()
        #expect(try f.run("set", "k", "hello") == .ok)
        #expect(try f.run("get", "k") == .bulk("hello"))
        #expect(try f.run("strlen", "k") == .integer(5))
        #expect(try f.run("getrange", "k", "1", "-2") == .bulk("ell"))
        #expect(try f.run("getrange", "k", "-100", "100") == .bulk("hello"))
        #expect(try f.run("getrange", "k", "3", "1") == .bulk(""))
        #expect(try f.run("setnx", "k", "x") == .integer(0))
        #expect(try f.run("getset", "k", "new") == .bulk("hello"))
        #expect(try f.run("append", "k", "er") == .integer(5))
        #expect(try f.run("mget", "k", "missing") == .array([.bulk("newer"), .null]))
        #expect(try f.run("incr", "k") == .error("ERR value is not an integer or out of range"))
        #expect(try f.run("incrbyfloat", "f", "10.5") == .bulk("10.5"))
        #expect(try f.run("incrbyfloat", "f", "0.1") == .bulk("10.6"))
        #expect(try f.run("type", "k") == .simpleString("string"))
        #expect(try f.run("type", "nothing") == .simpleString("none"))
        #expect(try f.run("exists", "k", "k", "nothing") == .integer(2))
    }

    @Test func ttlsAndExpiry() throws {
        let f = try Fixture()
        #expect(try f.run("set", "k", "v", "PX", "1500") == .ok)
        #expect(try f.run("pttl", "k") == .integer(1500))
        #expect(try f.run("ttl", "k") == .integer(2))
        #expect(try f.run("persist", "k") == .integer(1))
        #expect(try f.run("ttl", "k") == .integer(-1))
        #expect(try f.run("ttl", "missing") == .integer(-2))
        #expect(try f.run("expire", "k", "0") == .integer(1))
        #expect(try f.run("get", "k") == .null)
    }

    @Test func hashesAndWrongType() throws {
        let f = try Fixture()
        #expect(try f.run("hset", "h", "a", "1", "b", "2") == .integer(2))
        #expect(try f.run("hget", "h", "a") == .bulk("1"))
        #expect(try f.run("hmget", "h", "a", "zz") == .array([.bulk("1"), .null]))
        // Fields come in the order of their element names, which Redis leaves undefined too.
        func unordered(_ reply: RESPValue) -> Set<RESPValue> {
            switch reply {
            case .array(let items): return Set(items)
            case .map(let pairs): return Set(pairs.map { .array([$0.key, $0.value]) })
            default: return [reply]
            }
        }
        #expect(try unordered(f.run("hgetall", "h")) == [.array([.bulk("a"), .bulk("1")]), .array([.bulk("b"), .bulk("2")])])
        #expect(try f.run("hincrby", "h", "a", "41") == .integer(42))
        #expect(try f.run("hlen", "h") == .integer(2))
        #expect(try f.run("hexists", "h", "b") == .integer(1))
        #expect(try unordered(f.run("hkeys", "h")) == [.bulk("a"), .bulk("b")])
        #expect(try unordered(f.run("hvals", "h")) == [.bulk("42"), .bulk("2")])
        #expect(try f.run("hdel", "h", "a", "b", "c") == .integer(2))
        #expect(try f.run("exists", "h") == .integer(0))
        #expect(try f.run("hset", "h", "a", "1") == .integer(1))
        #expect(try f.run("get", "h") == .error(CommandError.wrongType.redisMessage))
        #expect(try f.run("set", "s", "v") == .ok)
        #expect(try f.run("hget", "s", "a") == .error(CommandError.wrongType.redisMessage))
        #expect(try f.run("hset", "s", "a", "1") == .error(CommandError.wrongType.redisMessage))
        #expect(try f.run("type", "h") == .simpleString("hash"))
    }

    @Test func keysScanAndDatabaseSize() throws {
        let f = try Fixture()
        for n in 0..<25 { #expect(try f.run("set", "key:\(n)", "v") == .ok) }
        #expect(try f.run("set", "other", "v") == .ok)
        #expect(try f.run("dbsize") == .integer(26))
        guard case .array(let matched) = try f.run("keys", "key:1*") else { Issue.record("array expected"); return }
        #expect(matched.count == 11)
        var cursor = "0"
        var seen: [RESPValue] = []
        for _ in 0..<20 {
            guard case .array(let reply) = try f.run("scan", cursor, "MATCH", "key:*", "COUNT", "7"),
                  case .bulkString(let next) = reply[0], case .array(let keys) = reply[1] else {
                Issue.record("scan reply shape")
                return
            }
            seen += keys
            cursor = String(decoding: next, as: UTF8.self)
            if cursor == "0" { break }
        }
        #expect(cursor == "0")
        #expect(seen.count == 25)
        #expect(Set(seen).count == 25)
        #expect(try f.run("scan", "999999") == .error("ERR invalid cursor"))
    }
}
