import Foundation
import KV
import RESP
import RedisCommands
import Storage
import Synchronization
import Testing
import TestSupport

/// Scripts and functions applied as a node applies them: replicated calls through transaction entries on a
/// state machine, read-only ones through the evaluator.
@Suite struct ScriptEngineTests {
    final class Fixture {
        let dir: TemporaryDirectory
        let store: MVCCStore
        let machine: KVStateMachine
        let evaluator: ReadEvaluator<KVReader>
        let parser = RedisCommandParser()
        let scripts = RunningScripts()
        var index: UInt64 = 0
        var now: UInt64 = 10_000

        init(_ name: String = "scripts") throws {
            dir = TemporaryDirectory(name)
            store = try MVCCStore(path: dir.file("db"))
            machine = KVStateMachine(store: store)
            machine.transactionApplier = RedisTransactionApplier(maxValueBytes: machine.maxValueBytes)
            evaluator = ReadEvaluator(reader: KVReader(store: store), cursors: ScanCursors(), scripts: scripts)
        }

        deinit {
            store.close()
            dir.remove()
        }

        /// The payload of the entry a node proposes for one replicated command.
        func entry(_ arguments: [[UInt8]]) -> [UInt8] {
            TransactionEntry(proposedTS: now * 1000, nowMillis: now, watches: [], commands: [arguments]).encoded()
        }

        func apply(_ payload: [UInt8]) throws -> RESPValue {
            index += 1
            let outcome = machine.apply([CommittedEntry(index: index, term: 1, data: payload)])
            if let halt = outcome.halt { throw halt }
            guard let replies = TransactionEntry.replies(from: outcome.results[index]!), let replies, replies.count == 1 else {
                Issue.record("not a transaction answer")
                return .null
            }
            return replies[0]
        }

        func run(_ words: String...) throws -> RESPValue { try run(words.map { Array($0.utf8) }) }

        func run(_ arguments: [[UInt8]]) throws -> RESPValue {
            let request = parser.parse(arguments, nowMillis: now)
            switch request {
            case .script(let command) where command.isReplicated: return try apply(entry(arguments))
            case .script(let command): return try evaluator.evaluate(.script(command), nowMillis: now)
            case .write, .read: return try apply(entry(arguments))
            case .reply(let reply): return reply
            default: return .error("not a data command")
            }
        }

        /// Every row of the store, newest version first per key: what two replicas must agree on.
        func rows() throws -> [StoredVersion] {
            try store.scan(from: [], to: nil, nowMillis: 0, limit: 100_000)
        }
    }

    static func sha(_ body: String) throws -> String {
        let f = try Fixture("sha")
        guard case .bulkString(let sha) = try f.run("script", "load", body) else { return "" }
        return String(decoding: sha, as: UTF8.self)
    }

    @Test func luaValuesBecomeRedisRepliesAsRedisConvertsThem() throws {
        let f = try Fixture()
        #expect(try f.run("eval", "return 1", "0") == .integer(1))
        #expect(try f.run("eval", "return 3.99", "0") == .integer(3))
        #expect(try f.run("eval", "return -3.99", "0") == .integer(-3))
        #expect(try f.run("eval", "return 1e20", "0") == .integer(.min))
        #expect(try f.run("eval", "return 0/0", "0") == .integer(.min))
        #expect(try f.run("eval", "return 'x'", "0") == .bulk("x"))
        #expect(try f.run("eval", "return true", "0") == .integer(1))
        #expect(try f.run("eval", "return false", "0") == .null)
        #expect(try f.run("eval", "return nil", "0") == .null)
        #expect(try f.run("eval", "return {1, 2, {3, 'x'}, nil, 4}", "0")
            == .array([.integer(1), .integer(2), .array([.integer(3), .bulk("x")])]))
        #expect(try f.run("eval", "return {a = 1}", "0") == .array([]))
        #expect(try f.run("eval", "return {err = 'MY error'}", "0") == .error("MY error"))
        #expect(try f.run("eval", "return {ok = 'FINE'}", "0") == .simpleString("FINE"))
        #expect(try f.run("eval", "return redis.error_reply('My err')", "0") == .error("My err"))
        #expect(try f.run("eval", "return redis.error_reply('E1')", "0") == .error("ERR E1"))
        #expect(try f.run("eval", "return redis.error_reply('-X y')", "0") == .error("X y"))
        #expect(try f.run("eval", "return redis.error_reply(5)", "0") == .error("ERR wrong number or type of arguments"))
        #expect(try f.run("eval", "return redis.status_reply('OK2')", "0") == .simpleString("OK2"))
        #expect(try f.run("eval", "return {double = 3.5}", "0") == .double(3.5))
        #expect(try f.run("eval", "return {1, {err = 'E2'}, 3}", "0") == .array([.integer(1), .error("E2"), .integer(3)]))
        #expect(try f.run("eval", "return KEYS[1] .. ARGV[1] .. #ARGV", "1", "k", "a", "b") == .bulk("ka2"))
    }

    @Test func redisRepliesBecomeLuaValues() throws {
        let f = try Fixture()
        _ = try f.run("set", "s", "v")
        _ = try f.run("rpush", "l", "a", "b")
        #expect(try f.run("eval", "return type(redis.call('get', 'missing'))", "0") == .bulk("boolean"))
        #expect(try f.run("eval", "return redis.call('get', 's')", "0") == .bulk("v"))
        #expect(try f.run("eval", "return redis.call('rpush', 'l', 'c') + 1", "0") == .integer(4))
        #expect(try f.run("eval", "return redis.call('lrange', 'l', 0, -1)", "0") == .array([.bulk("a"), .bulk("b"), .bulk("c")]))
        #expect(try f.run("eval", "return redis.call('set', 's', 'w').ok", "0") == .bulk("OK"))
        #expect(try f.run("eval", "return redis.pcall('incr', 's').err", "0") == .bulk("ERR value is not an integer or out of range"))
        #expect(try f.run("eval", "redis.setresp(3); return type(redis.call('get', 'missing'))", "0") == .bulk("nil"))
        #expect(try f.run("eval", "return redis.call('set', 'n', 1.5)", "0") == .simpleString("OK"))
        #expect(try f.run("get", "n") == .bulk("1.5"))
    }

    @Test func errorsNameTheScriptAndTheLineAsRedisDoes() throws {
        let f = try Fixture()
        let sha = try Self.sha("local x = 1\n\nerror('boom')")
        #expect(try f.run("eval", "local x = 1\n\nerror('boom')", "0")
            == .error("ERR user_script:3: boom script: \(sha), on @user_script:3."))
        let callSha = try Self.sha("local function f()\n  return redis.call('nosuch')\nend\nreturn f()")
        #expect(try f.run("eval", "local function f()\n  return redis.call('nosuch')\nend\nreturn f()", "0")
            == .error("ERR Unknown Redis command called from script script: \(callSha), on @user_script:2."))
        #expect(try f.run("eval", "return redis.pcall('get')", "0") == .error("ERR Wrong number of args calling Redis command from script"))
        #expect(try f.run("eval", "return 1 +", "0")
            == .error("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"))
        guard case .error(let global) = try f.run("eval", "return undefined_name", "0") else { Issue.record("no error"); return }
        #expect(global.hasPrefix("ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_name'"))
        guard case .error(let readonly) = try f.run("eval", "x = 1", "0") else { Issue.record("no error"); return }
        #expect(readonly.hasPrefix("ERR user_script:1: Attempt to modify a readonly table"))
        #expect(try f.run("eval", "local ok, e = pcall(redis.call, 'nosuch'); return e", "0")
            == .bulk("ERR Unknown Redis command called from script"))
        guard case .error(let notAllowed) = try f.run("eval", "return redis.call('multi')", "0") else { Issue.record("no error"); return }
        #expect(notAllowed.hasPrefix("ERR This Redis command is not allowed from script"))
        #expect(try f.run("eval", "return 1", "2", "a") == .error("ERR Number of keys can't be greater than number of args"))
        #expect(try f.run("eval", "return 1", "-1") == .error("ERR Number of keys can't be negative"))
    }

    @Test func aScriptThatFailsMidwayKeepsItsEarlierWritesAsRedisDoes() throws {
        let f = try Fixture()
        guard case .error = try f.run("eval", "redis.call('set', 'a', '1'); redis.call('incr', 'nokey-is-fine'); error('stop'); redis.call('set', 'b', '2')", "0")
        else { Issue.record("no error"); return }
        #expect(try f.run("get", "a") == .bulk("1"))
        #expect(try f.run("get", "nokey-is-fine") == .bulk("1"))
        #expect(try f.run("get", "b") == .null)
    }

    @Test func everyReplicaReachesTheSameStateFromTheSameEntries() throws {
        let one = try Fixture("replica-one")
        let two = try Fixture("replica-two")
        let script = """
            local out = {}
            for i = 1, 20 do
              local member = tostring(math.random(1000))
              redis.call('sadd', KEYS[1], member)
              redis.call('hset', KEYS[2], member, i)
              out[#out + 1] = member
            end
            redis.call('set', KEYS[3], table.concat(out, ','))
            return #out
            """
        for round in 0..<5 {
            let payload = one.entry(["eval", script, "3", "set\(round)", "hash\(round)", "joined\(round)"].map { Array($0.utf8) })
            #expect(try one.apply(payload) == .integer(20))
            two.now = one.now
            #expect(try two.apply(payload) == .integer(20))
            one.now += 1
            two.now = one.now
        }
        let left = try one.rows().map { [$0.key, $0.body, [$0.isTombstone ? 1 : 0]] }
        let right = try two.rows().map { [$0.key, $0.body, [$0.isTombstone ? 1 : 0]] }
        #expect(left == right)
        // Another entry draws other numbers: the generator is seeded from the entry.
        #expect(try one.run("get", "joined0") != (try one.run("get", "joined1")))
    }

    @Test func runawayScriptsStopAtTheSamePointOnEveryReplica() async throws {
        try await CPUBoundWork.run {
            let f = try Fixture()
            let reply = try f.run("eval", "redis.call('set', 'before', '1'); while true do end", "0")
            guard case .error(let message) = reply else { Issue.record("\(reply)"); return }
            #expect(message.hasPrefix("ERR Script exceeded the instruction budget"))
            #expect(try f.run("get", "before") == .bulk("1"))
            // A pcall loop cannot keep it alive.
            guard case .error(let looped) = try f.run("eval", "while true do pcall(function() while true do end end) end", "0")
            else { Issue.record("no error"); return }
            #expect(looped.hasPrefix("ERR Script exceeded the instruction budget"))
            guard case .error(let memory) = try f.run("eval", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end", "0")
            else { Issue.record("no error"); return }
            #expect(memory.contains("not enough memory"))
        }
    }

    @Test func scriptsAreStoredReplicatedAndFlushed() throws {
        let f = try Fixture()
        guard case .bulkString(let sha) = try f.run("script", "load", "return 'loaded'") else { Issue.record("no sha"); return }
        let hex = String(decoding: sha, as: UTF8.self)
        #expect(hex.count == 40)
        #expect(try f.run("evalsha", hex, "0") == .bulk("loaded"))
        #expect(try f.run("evalsha", hex.uppercased(), "0") == .bulk("loaded"))
        #expect(try f.run("script", "exists", hex, "ffff") == .array([.integer(1), .integer(0)]))
        #expect(try f.run("script", "load", "return +") == .error("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"))
        // EVAL caches its script.
        _ = try f.run("eval", "return 'cached'", "0")
        guard case .bulkString(let cached) = try f.run("eval", "return redis.sha1hex('return \\'cached\\'')", "0") else {
            Issue.record("no sha")
            return
        }
        #expect(try f.run("evalsha", String(decoding: cached, as: UTF8.self), "0") == .bulk("cached"))
        #expect(try f.run("flushall") == .ok)
        #expect(try f.run("evalsha", hex, "0") == .bulk("loaded"))
        #expect(try f.run("script", "flush") == .ok)
        #expect(try f.run("evalsha", hex, "0") == .error("NOSCRIPT No matching script. Please use EVAL."))
        #expect(try f.run("dbsize") == .integer(0))
    }

    @Test func readOnlyScriptsRefuseWrites() throws {
        let f = try Fixture()
        _ = try f.run("set", "k", "v")
        #expect(try f.run("eval_ro", "return redis.call('get', 'k')", "0") == .bulk("v"))
        #expect(try f.run("eval_ro", "return redis.pcall('set', 'k', 'w')", "0")
            == .error("ERR Write commands are not allowed from read-only scripts."))
        #expect(try f.run("eval", "#!lua flags=no-writes\nreturn redis.pcall('set', 'k', 'w')", "0")
            == .error("ERR Write commands are not allowed from read-only scripts."))
        #expect(try f.run("get", "k") == .bulk("v"))
        #expect(try f.run("script", "kill") == .error("NOTBUSY No scripts in execution right now."))
    }

    @Test func aRunningReadOnlyScriptCanBeKilled() throws {
        let f = try Fixture()
        let evaluator = f.evaluator
        let now = f.now
        let command = f.parser.parse(["eval_ro", "while true do end", "0"].map { Array($0.utf8) }, nowMillis: now)
        guard case .script(let script) = command else { Issue.record("\(command)"); return }
        // The script runs on a thread of its own, as the node runs read-only scripts off the cooperative pool.
        let result = Mutex<RESPValue?>(nil)
        let thread = Thread {
            let reply = (try? evaluator.evaluate(.script(script), nowMillis: now)) ?? .error("storage failed")
            result.withLock { $0 = reply }
        }
        thread.start()
        var killed = RESPValue.null
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, killed != .ok {
            killed = f.scripts.kill()
            usleep(1_000)
        }
        #expect(killed == .ok)
        while ContinuousClock.now < deadline, result.withLock({ $0 }) == nil { usleep(1_000) }
        guard case .error(let message) = result.withLock({ $0 }) else { Issue.record("no error"); return }
        #expect(message.hasPrefix("ERR Script killed by user with SCRIPT KILL..."))
    }

    @Test func functionsLoadCallListDumpAndRestore() throws {
        let f = try Fixture()
        let library = "#!lua name=mylib\nredis.register_function('myget', function(keys, args) return redis.call('get', keys[1]) end)\n"
            + "redis.register_function{function_name='ro', callback=function(keys, args) return #args end, flags={'no-writes'}, description='d'}"
        #expect(try f.run("function", "load", library) == .bulk("mylib"))
        #expect(try f.run("function", "load", library) == .error("ERR Library 'mylib' already exists"))
        _ = try f.run("set", "k", "v")
        #expect(try f.run("fcall", "myget", "1", "k") == .bulk("v"))
        #expect(try f.run("fcall", "MYGET", "1", "k") == .bulk("v"))
        #expect(try f.run("fcall_ro", "myget", "1", "k") == .error("ERR Can not execute a script with write flag using *_ro command."))
        #expect(try f.run("fcall_ro", "ro", "0", "a", "b") == .integer(2))
        #expect(try f.run("fcall", "nothere", "0") == .error("ERR Function not found"))
        #expect(try f.run("function", "load", "#!lua name=other\nredis.register_function('myget', function() return 1 end)")
            == .error("ERR Function myget already exists"))
        #expect(try f.run("function", "load", "#!lua name=bad\nlocal a = b")
            == .error("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'b'"))
        #expect(try f.run("function", "load", "#!lua name=bad\nreturn 1") == .error("ERR No functions registered"))
        #expect(try f.run("function", "load", "return 1") == .error("ERR Missing library metadata"))
        #expect(try f.run("function", "load", "#!lua name=a-b\n") == .error("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
        #expect(try f.run("function", "load", "#!lua name=bad\nlocal x = +") == .error("ERR Error compiling function: user_function:2: unexpected symbol near '+'"))
        guard case .array(let listed) = try f.run("function", "list") else { Issue.record("no list"); return }
        #expect(listed.count == 1)
        guard case .bulkString(let dump) = try f.run("function", "dump") else { Issue.record("no dump"); return }
        #expect(try f.run("function", "flush") == .ok)
        #expect(try f.run("fcall", "myget", "1", "k") == .error("ERR Function not found"))
        #expect(try f.run(["function", "restore"].map { Array($0.utf8) } + [dump]) == .ok)
        #expect(try f.run("fcall", "myget", "1", "k") == .bulk("v"))
        #expect(try f.run(["function", "restore"].map { Array($0.utf8) } + [dump]) == .error("ERR Library mylib already exists"))
        #expect(try f.run(["function", "restore"].map { Array($0.utf8) } + [dump, Array("replace".utf8)]) == .ok)
        var corrupt = dump
        corrupt[corrupt.count - 5] ^= 0x01
        #expect(try f.run(["function", "restore"].map { Array($0.utf8) } + [corrupt]) == .error("ERR DUMP payload version or checksum are wrong"))
        #expect(try f.run("function", "restore", "garbage") == .error("ERR DUMP payload version or checksum are wrong"))
        #expect(try f.run("function", "delete", "mylib") == .ok)
        #expect(try f.run("function", "delete", "mylib") == .error("ERR Library not found"))
    }

    @Test func scriptRowsAreOutsideEveryDatabase() throws {
        let f = try Fixture()
        _ = try f.run("script", "load", "return 1")
        _ = try f.run("function", "load", "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        #expect(try f.run("dbsize") == .integer(0))
        #expect(try f.run("keys", "*") == .array([]))
        let rows = try f.rows().map(\.key)
        #expect(rows.contains(ScriptRows.library(Array("lib".utf8))))
        #expect(rows.contains { $0.starts(with: ScriptRows.scriptsStart) })
    }
}
