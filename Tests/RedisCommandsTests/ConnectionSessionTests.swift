import KV
import RESP
import RedisCommands
import Testing

@Suite struct ConnectionSessionTests {
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func helloSwitchesToRESP3AndReportsTheConnection() {
        var session = ConnectionSession(clientID: 7, password: nil)
        let (reply, close) = session.respond(to: .hello(protocolVersion: 3, auth: nil, clientName: b("app")),
                                             info: { "" })
        #expect(!close)
        #expect(session.protocolVersion == .resp3)
        #expect(session.clientName == b("app"))
        guard case .map(let pairs) = reply else { Issue.record("map expected"); return }
        #expect(pairs.contains(.init(.bulk("proto"), .integer(3))))
        #expect(pairs.contains(.init(.bulk("id"), .integer(7))))
        #expect(session.respond(to: .hello(protocolVersion: 4, auth: nil, clientName: nil), info: { "" }).reply
            == .error("NOPROTO unsupported protocol version"))
    }

    @Test func passwordGatesEveryDatabaseCommand() {
        var session = ConnectionSession(clientID: 1, password: b("s3cret"))
        #expect(session.admit(.read(.get(b("k")))) == .error("NOAUTH Authentication required."))
        #expect(session.admit(.connection(.auth(Credentials(user: b("default"), password: b("x"))))) == nil)
        #expect(session.respond(to: .auth(Credentials(user: b("default"), password: b("wrong"))), info: { "" }).reply
            == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(!session.isAuthenticated)
        #expect(session.respond(to: .auth(Credentials(user: b("default"), password: b("s3cret"))), info: { "" }).reply
            == .ok)
        #expect(session.admit(.read(.get(b("k")))) == nil)
    }

    @Test func helloCanAuthenticate() {
        var session = ConnectionSession(clientID: 1, password: b("pw"))
        let credentials = Credentials(user: b("default"), password: b("pw"))
        guard case .map = session.respond(to: .hello(protocolVersion: 2, auth: credentials, clientName: nil),
                                          info: { "" }).reply
        else { Issue.record("map expected"); return }
        #expect(session.isAuthenticated)
    }

    @Test func authWithoutAConfiguredPasswordIsAnError() {
        var session = ConnectionSession(clientID: 1, password: nil)
        guard case .error(let message) = session.respond(
            to: .auth(Credentials(user: b("default"), password: b("x"))), info: { "" }).reply
        else { Issue.record("error expected"); return }
        #expect(message.hasPrefix("ERR AUTH <password> called without any password configured"))
    }

    @Test func clientSelectCommandAndQuit() {
        var session = ConnectionSession(clientID: 42, password: nil)
        #expect(session.respond(to: .clientGetName, info: { "" }).reply == .null)
        _ = session.respond(to: .clientSetName(b("n")), info: { "" })
        #expect(session.respond(to: .clientGetName, info: { "" }).reply == .bulk("n"))
        #expect(session.respond(to: .clientID, info: { "" }).reply == .integer(42))
        #expect(session.respond(to: .select(0), info: { "" }).reply == .ok)
        #expect(session.respond(to: .select(15), info: { "" }).reply == .ok && session.database == 15)
        #expect(session.respond(to: .select(16), info: { "" }).reply == .error("ERR DB index is out of range"))
        #expect(session.respond(to: .select(-1), info: { "" }).reply == .error("ERR DB index is out of range"))
        #expect(session.database == 15, "a refused SELECT keeps the database")
        guard case .integer(let count) = session.respond(to: .command(subcommand: b("count")), info: { "" }).reply
        else { Issue.record("integer expected"); return }
        #expect(count == Int64(RedisCommandParser.commandNames.count))
        let docs = session.respond(to: .command(subcommand: b("docs"), names: [b("LPUSH"), b("nosuch"), b("multi")]),
                                   info: { "" }).reply
        #expect(docs == .map([.init(.bulk("lpush"), .map([.init(.bulk("group"), .bulk("list"))])),
                              .init(.bulk("multi"), .map([.init(.bulk("group"), .bulk("transactions"))]))]))
        guard case .map(let everything) = session.respond(to: .command(subcommand: b("docs")), info: { "" }).reply
        else { Issue.record("map expected"); return }
        #expect(everything.count == RedisCommandParser.commandNames.count, "DOCS without names documents every command")
        #expect(session.respond(to: .command(subcommand: b("info"), names: [b("get"), b("nosuch")]), info: { "" }).reply
            .arrayCount == 2)
        #expect(session.respond(to: .command(subcommand: b("list")), info: { "" }).reply.arrayCount
            == RedisCommandParser.commandNames.count)
        #expect(session.respond(to: .info(sections: []), info: { "# Server\r\n" }).reply == .bulk("# Server\r\n"))
        #expect(session.respond(to: .quit, info: { "" }).close)
        #expect(session.respond(to: .ping(nil), info: { "" }).reply == .simpleString("PONG"))
    }
}

@Suite struct CommandTableTests {
    /// COMMAND reports write/readonly flags from a list; it must agree with what parsing produces.
    @Test func writeFlagsAgreeWithParsing() {
        let parser = RedisCommandParser()
        // Argument lists that some write command accepts (SETBIT needs a 0/1 bit, BITOP an operation first,
        // LINSERT a side, LMOVE and BLMOVE two ends, LMPOP and BLMPOP a key count and an end, BITFIELD a SET,
        // ZMPOP and BZMPOP a key count and MIN or MAX, ZREMRANGEBYLEX a lex range, XTRIM a strategy, XGROUP and XREADGROUP theirs).
        let samples = [["k", "1", "2", "3"], ["k", "1", "1"], ["and", "d", "s"], ["k", "before", "p", "e"],
                       ["s", "d", "left", "right", "0"], ["1", "k", "left"], ["0", "1", "k", "left"],
                       ["k", "SET", "u8", "0", "1"], ["1", "k", "min"], ["0", "1", "k", "max"], ["k", "-", "+"], ["k", "MAXLEN", "1"], ["CREATE", "k", "g", "0"],
                       ["GROUP", "g", "c", "STREAMS", "k", ">"]]
            .map { $0.map { Array($0.utf8) } }
        for name in RedisCommandParser.commandNames {
            let requests = samples.flatMap { sample in
                (0...sample.count).map { parser.parse([Array(name.utf8)] + sample.prefix($0), nowMillis: 1) }
            }
            let isWrite = requests.contains { $0.proposedCommand != nil }
            guard case .array(let entries) = CommandIntrospectionProbe.info(), !entries.isEmpty else { return }
            #expect(isWrite == CommandIntrospectionProbe.isWrite(name), "\(name)")
        }
    }
}

/// Reads the write flag back out of a `COMMAND` reply.
enum CommandIntrospectionProbe {
    static func info() -> RESPValue {
        var session = ConnectionSession(clientID: 1, password: nil)
        return session.respond(to: .command(subcommand: nil), info: { "" }).reply
    }

    static func isWrite(_ name: String) -> Bool {
        guard case .array(let entries) = info() else { return false }
        for case .array(let fields) in entries where fields.first == .bulk(name) {
            return fields[2] == .array([.simpleString("write")])
        }
        return false
    }
}

@Suite struct ServerCommandTests {
    @Test func configGetReportsTheFixedParametersAndSetRefusesThem() {
        let config = ServerConfig(maxValueBytes: 1024)
        #expect(config.answer(.get([Array("proto-max-bulk-len".utf8)]))
            == .map([.init(.bulk("proto-max-bulk-len"), .bulk("1024"))]))
        #expect(config.answer(.get([Array("MAXMEMORY".utf8), Array("maxmemory*".utf8)]))
            == .map([.init(.bulk("MAXMEMORY"), .bulk("0")), .init(.bulk("maxmemory-policy"), .bulk("noeviction"))]))
        #expect(config.answer(.get([Array("requirepass".utf8)])) == .map([]), "secrets are never reported")
        #expect(config.answer(.set([Array("nope".utf8), Array("1".utf8)]))
            == .error("ERR Unknown option or number of arguments for CONFIG SET - 'nope'"))
        guard case .error(let refusal) = config.answer(.set([Array("maxmemory".utf8), Array("1".utf8)])) else {
            Issue.record("CONFIG SET of a known parameter must be refused")
            return
        }
        #expect(refusal.hasPrefix("ERR CONFIG SET failed (possibly related to argument 'maxmemory')"))
    }

    @Test func timeAnswersSecondsAndMicroseconds() {
        var session = ConnectionSession(clientID: 1, password: nil, clockMicros: { 1_700_000_000_123_456 })
        #expect(session.respond(to: .time, info: { "" }).reply == .array([.bulk("1700000000"), .bulk("123456")]))
    }
}

@Suite struct TransactionQueueTests {
    @Test func aTransactionBeyondTheEntryLimitIsRefusedWhileQueueing() {
        var state = TransactionState()
        #expect(state.begin() == .ok)
        let set = RedisRequest.write(.delete(keys: [[1]]), .direct)
        for _ in 0..<TransactionEntry.Limits.maxCommands {
            #expect(state.queue(set, arguments: [Array("DEL".utf8), [1]]) == .simpleString("QUEUED"))
        }
        guard case .error(let refusal)? = state.queue(set, arguments: [Array("DEL".utf8), [1]]) else {
            Issue.record("the command past the limit must be refused")
            return
        }
        #expect(refusal.hasPrefix("ERR a transaction holds at most"))
        #expect(state.queue(.transaction(.exec), arguments: [Array("EXEC".utf8)]) == nil, "EXEC still ends it")
        #expect(state.finish()?.refused == true, "EXEC answers EXECABORT")
    }

    @Test func watchingMoreKeysThanAnEntryCarriesIsRefused() {
        var state = TransactionState()
        let watch = TransactionEntry.Watch(key: [1], version: 1, wasLive: true, expireAtMillis: 0)
        #expect(state.watch(Array(repeating: watch, count: TransactionEntry.Limits.maxWatches)) == .ok)
        guard case .error = state.watch([watch]) else {
            Issue.record("one watched key past the limit must be refused")
            return
        }
        #expect(state.watches.count == TransactionEntry.Limits.maxWatches)
    }
}

extension RESPValue {
    var arrayCount: Int? {
        if case .array(let items) = self { return items.count }
        return nil
    }
}
