import KV
import RESP
import RedisCommands
import Testing

@Suite struct RedisCommandParserTests {
    let parser = RedisCommandParser(maxValueBytes: 16)
    let now: UInt64 = 1_000_000

    func parse(_ words: String...) -> RedisRequest {
        parser.parse(words.map { Array($0.utf8) }, nowMillis: now)
    }

    func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func setOptionsBecomeOneCommandWithAbsoluteExpiry() {
        #expect(parse("set", "k", "v") == .write(.set(key: b("k"), value: b("v"), condition: .always, expiry: .none,
                                                           returnOld: false), .direct))
        #expect(parse("SET", "k", "v", "nx", "EX", "10", "GET")
            == .write(.set(key: b("k"), value: b("v"), condition: .ifAbsent, expiry: .at(now + 10_000),
                           returnOld: true), .direct))
        #expect(parse("set", "k", "v", "PXAT", "123") == .write(.set(key: b("k"), value: b("v"), condition: .always,
                                                                      expiry: .at(123), returnOld: false), .direct))
        #expect(parse("set", "k", "v", "KEEPTTL", "XX") == .write(.set(key: b("k"), value: b("v"),
                                                                        condition: .ifPresent, expiry: .keep,
                                                                        returnOld: false), .direct))
    }

    @Test func setRejectsConflictingOrBadOptionsLikeRedis() {
        #expect(parse("set", "k", "v", "NX", "XX") == .reply(.error("ERR syntax error")))
        #expect(parse("set", "k", "v", "EX", "1", "PX", "1") == .reply(.error("ERR syntax error")))
        #expect(parse("set", "k", "v", "EX") == .reply(.error("ERR syntax error")))
        #expect(parse("set", "k", "v", "EX", "0") == .reply(.error("ERR invalid expire time in 'set' command")))
        #expect(parse("set", "k", "v", "EX", "x") == .reply(.error("ERR value is not an integer or out of range")))
        #expect(parse("set", "k", "v", "EX", "9223372036854775807")
            == .reply(.error("ERR invalid expire time in 'set' command")))
        #expect(parse("set", "k", "v", "bogus") == .reply(.error("ERR syntax error")))
    }

    @Test func arityAndUnknownCommands() {
        #expect(parse("get") == .reply(.error("ERR wrong number of arguments for 'get' command")))
        #expect(parse("get", "a", "b") == .reply(.error("ERR wrong number of arguments for 'get' command")))
        #expect(parse("mset", "a", "1", "b") == .reply(.error("ERR wrong number of arguments for 'mset' command")))
        #expect(parse("hset", "h", "f") == .reply(.error("ERR wrong number of arguments for 'hset' command")))
        #expect(parse("nope", "x") == .reply(.error("ERR unknown command 'nope', with args beginning with: 'x' ")))
        #expect(parse("nope") == .reply(.error("ERR unknown command 'nope', with args beginning with: ")))
        let long = String(repeating: "a", count: 100)
        #expect(parse("nope", long, long, "z") == .reply(.error(
            "ERR unknown command 'nope', with args beginning with: '\(long)' '\(String(repeating: "a", count: 25))' ")))
    }

    @Test func oversizedValuesAreRefusedCleanly() {
        guard case .reply(.error(let message)) = parse("set", "k", String(repeating: "x", count: 17)) else {
            Issue.record("expected an error reply")
            return
        }
        #expect(message == "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        #expect(parse("append", "k", String(repeating: "x", count: 16)) != .reply(.error(message)))
    }

    @Test func familiesMapOntoTheStateMachineCommands() {
        #expect(parse("setnx", "k", "v") == .write(.set(key: b("k"), value: b("v"), condition: .ifAbsent,
                                                         expiry: .none, returnOld: false), .setFlag))
        #expect(parse("setex", "k", "5", "v") == .write(.set(key: b("k"), value: b("v"), condition: .always,
                                                              expiry: .at(now + 5_000), returnOld: false), .direct))
        #expect(parse("setex", "k", "-5", "v") == .reply(.error("ERR invalid expire time in 'setex' command")))
        #expect(parse("decrby", "k", "4") == .write(.incrementBy(key: b("k"), delta: -4), .direct))
        #expect(parse("decrby", "k", "-9223372036854775808") == .reply(.error("ERR decrement would overflow")))
        #expect(parse("expire", "k", "-1") == .write(.expireAt(key: b("k"), atMillis: now - 1_000), .direct))
        #expect(parse("pexpireat", "k", "55") == .write(.expireAt(key: b("k"), atMillis: 55), .direct))
        #expect(parse("getex", "k", "PERSIST") == .write(.getExpire(key: b("k"), expiry: .none), .direct))
        #expect(parse("getex", "k", "EX") == .reply(.error("ERR syntax error")))
        #expect(parse("setrange", "k", "-1", "v") == .reply(.error("ERR offset is out of range")))
        // A bad increment travels as NaN so that apply answers WRONGTYPE first, as Redis does.
        guard case .write(.incrementByFloat(_, let delta), _) = parse("incrbyfloat", "k", "abc") else {
            Issue.record("INCRBYFLOAT with a bad increment must still be proposed")
            return
        }
        #expect(delta.isNaN)
        #expect(parse("hincrbyfloat", "h", "f", "inf") == .reply(.error("ERR value is NaN or Infinity")))
        #expect(parse("unlink", "a", "b") == .write(.delete(keys: [b("a"), b("b")]), .direct))
    }

    @Test func aWriteTooLargeForOneEntryIsRefusedBeforeItIsProposed() {
        let parser = RedisCommandParser()
        let keys = (0...RedisCommandParser.maxWriteArguments).map { Array("k\($0)".utf8) }
        #expect(parser.parse([Array("del".utf8)] + keys, nowMillis: now)
            == .reply(.error(RedisCommandParser.tooManyArguments("del"))))
        #expect(parser.parse([Array("del".utf8)] + keys.dropLast(), nowMillis: now)
            == .write(.delete(keys: Array(keys.dropLast())), .direct))
        guard case .read = parser.parse([Array("mget".utf8)] + keys, nowMillis: now) else {
            Issue.record("a read is not an entry and takes any number of keys")
            return
        }
    }

    @Test func expireOptionsKeysAndHashesAsRedisParsesThem() {
        #expect(parse("expire", "k", "5", "nx") == .write(.expireAtIf(key: b("k"), atMillis: now + 5_000,
                                                                      condition: .noExpiry), .direct))
        #expect(parse("pexpireat", "k", "9", "XX", "GT") == .write(.expireAtIf(key: b("k"), atMillis: 9,
                                                                               condition: [.hasExpiry, .later]), .direct))
        #expect(parse("expire", "k", "5", "NX", "XX")
            == .reply(.error("ERR NX and XX, GT or LT options at the same time are not compatible")))
        #expect(parse("expire", "k", "5", "GT", "LT")
            == .reply(.error("ERR GT and LT options at the same time are not compatible")))
        #expect(parse("expire", "k", "5", "FOO") == .reply(.error("ERR Unsupported option FOO")))
        #expect(parse("expiretime", "k") == .read(.expireTime(b("k"), milliseconds: false)))
        #expect(parse("renamenx", "a", "b") == .write(.rename(from: b("a"), to: b("b"), onlyIfAbsent: true), .direct))
        #expect(parse("copy", "a", "b", "REPLACE", "DB", "0")
            == .write(.copyToDatabase(from: b("a"), to: b("b"), database: 0, replace: true), .direct))
        #expect(parse("copy", "a", "b") == .write(.copy(from: b("a"), to: b("b"), replace: false), .direct))
        #expect(parse("copy", "a", "b", "DB", "16") == .reply(.error("ERR DB index is out of range")))
        #expect(parse("move", "a", "15") == .write(.move(key: b("a"), database: 15), .direct))
        #expect(parse("move", "a", "-1") == .reply(.error("ERR DB index is out of range")))
        #expect(parse("move", "a", "x") == .reply(.error("ERR value is not an integer or out of range")))
        #expect(parse("flushdb") == .write(.flushDatabase, .direct))
        #expect(parse("copy", "a", "a") == .reply(.error("ERR source and destination objects are the same")))
        #expect(parse("copy", "a", "b", "DB") == .reply(.error("ERR syntax error")))
        #expect(parse("copy", "a", "b", "DB", "x") == .reply(.error("ERR value is not an integer or out of range")))
        #expect(parse("touch", "a", "b") == .read(.exists([b("a"), b("b")])))
        #expect(parse("substr", "k", "1", "2") == .read(.getRange(b("k"), start: 1, end: 2)))
        #expect(parse("hmset", "h", "f", "v") == .write(.hashSet(key: b("h"), fields: [.init(b("f"), b("v"))]),
                                                         .okOnSuccess))
        #expect(parse("hmset", "h", "f") == .reply(.error("ERR wrong number of arguments for 'hmset' command")))
        #expect(parse("hsetnx", "h", "f", "v") == .write(.hashSetIfAbsent(key: b("h"), field: b("f"), value: b("v")),
                                                          .direct))
        #expect(parse("hincrbyfloat", "h", "f", "x") == .reply(.error("ERR value is not a valid float")))
        #expect(parse("hstrlen", "h", "f") == .read(.hashFieldLength(b("h"), field: b("f"))))
        #expect(ReplyShape.okOnSuccess.render(.integer(2)) == .ok)
        #expect(ReplyShape.okOnSuccess.render(.error(.wrongType)) == .error(CommandError.wrongType.redisMessage))
    }

    @Test func readAndConnectionCommands() {
        #expect(parse("getrange", "k", "0", "-1") == .read(.getRange(b("k"), start: 0, end: -1)))
        #expect(parse("scan", "0", "MATCH", "a*", "COUNT", "5") == .read(.scan(cursor: 0, pattern: b("a*"), count: 5)))
        #expect(parse("scan", "0", "TYPE", "Hash") == .read(.scan(cursor: 0, pattern: nil, count: 10, type: "hash")))
        #expect(parse("scan", "0", "TYPE") == .reply(.error("ERR syntax error")))
        #expect(parse("hscan", "h", "0", "MATCH", "f*", "NOVALUES") == .read(.hashScan(b("h"), cursor: 0, pattern: b("f*"),
                                                                                         count: 10, noValues: true)))
        #expect(parse("hscan", "h", "x") == .reply(.error("ERR invalid cursor")))
        #expect(parse("hrandfield", "h", "-5", "WITHVALUES") == .read(.hashRandomField(b("h"), count: -5,
                                                                                          withValues: true)))
        #expect(parse("hrandfield", "h", "1", "BAD") == .reply(.error("ERR syntax error")))
        #expect(parse("object", "encoding", "k") == .read(.object(.encoding, b("k"))))
        #expect(parse("object", "nope", "k") == .reply(.error("ERR unknown subcommand 'nope'. Try OBJECT HELP.")))
        #expect(parse("object", "ENCODING")
            == .reply(.error("ERR wrong number of arguments for 'object|encoding' command")))
        #expect(parse("scan", "x") == .reply(.error("ERR invalid cursor")))
        #expect(parse("scan", "0", "COUNT", "0") == .reply(.error("ERR syntax error")))
        #expect(parse("ping") == .connection(.ping(nil)))
        #expect(parse("hello", "3", "SETNAME", "me") == .connection(.hello(protocolVersion: 3, auth: nil,
                                                                             clientName: b("me"))))
        #expect(parse("hello", "x") == .reply(.error("ERR Protocol version is not an integer or out of range")))
        #expect(parse("client", "setname", "a b") == .reply(.error(
            "ERR Client names cannot contain spaces, newlines or special characters.")))
        #expect(parse("auth", "secret") == .connection(.auth(Credentials(user: b("default"), password: b("secret"), passwordOnly: true))))
        #expect(!String(describing: Credentials(user: b("u"), password: b("hunter2"))).contains("hunter2"))
    }

    @Test func replyShapes() {
        #expect(ReplyShape.setFlag.render(.ok) == .integer(1))
        #expect(ReplyShape.setFlag.render(.null) == .integer(0))
        #expect(ReplyShape.direct.render(.error(.wrongType)) == .error(CommandError.wrongType.redisMessage))
        #expect(ReplyShape.direct.render(.bulk([1])) == .bulkString([1]))
    }
}

@Suite struct GlobPatternTests {
    func m(_ pattern: String, _ text: String) -> Bool { GlobPattern.matches(Array(pattern.utf8), Array(text.utf8)) }

    @Test func matchesLikeRedis() {
        #expect(m("*", ""))
        #expect(m("a*", "abc"))
        #expect(!m("a*", "bac"))
        #expect(m("h?llo", "hello"))
        #expect(m("h[ae]llo", "hallo"))
        #expect(!m("h[^e]llo", "hello"))
        #expect(m("h[a-b]llo", "hbllo"))
        #expect(m("h\\*llo", "h*llo"))
        #expect(!m("h\\*llo", "hello"))
        #expect(m("*a*b*c*", "xxaxxbxxcxx"))
        #expect(!m("a", "ab"))
    }

    @Test func pathologicalPatternsStopWithinTheStepBudget() {
        let pattern = String(repeating: "*a", count: 30) + "b"
        #expect(!m(pattern, String(repeating: "a", count: 60)))
    }
}
