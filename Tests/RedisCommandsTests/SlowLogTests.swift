import RESP
@testable import RedisCommands
import Testing

/// The expected replies were read from redis-server 7.0.15 (`SLOWLOG …` over a raw socket).
@Suite struct SlowLogTests {
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }
    func words(_ line: String) -> [[UInt8]] { line.split(separator: " ").map { Array($0.utf8) } }
    func wire(_ value: RESPValue) -> String { String(decoding: value.encoded(.resp2), as: UTF8.self) }

    /// A log that keeps every command, as after `CONFIG SET slowlog-log-slower-than 0`.
    func everything() -> SlowLog { SlowLog(thresholdMicroseconds: 0) }

    func record(_ log: SlowLog, _ arguments: [[UInt8]], micros: Int64 = 20_000,
                unixMicros: Int64 = 1_796_651_835_500_000, name: String = "") {
        log.record(arguments: arguments, duration: .microseconds(micros), unixMicros: unixMicros,
                   clientAddress: "127.0.0.1:42216", clientName: name)
    }

    func loggedArguments(_ log: SlowLog) -> [[UInt8]] { log.latest(1).first?.arguments ?? [] }

    // MARK: Entries

    @Test func anEntryShowsIdSecondsMicrosecondsArgumentsAddressAndName() {
        let log = everything()
        record(log, words("SET k v"), micros: 11, name: "myname")
        #expect(wire(log.answer(words("SLOWLOG GET 1")))
            == "*1\r\n*6\r\n:0\r\n:1796651835\r\n:11\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
            + "$15\r\n127.0.0.1:42216\r\n$6\r\nmyname\r\n")
    }

    @Test func anUnnamedClientShowsAnEmptyName() {
        let log = everything()
        record(log, words("PING"), micros: 2)
        #expect(wire(log.answer(words("SLOWLOG GET")))
            == "*1\r\n*6\r\n:0\r\n:1796651835\r\n:2\r\n*1\r\n$4\r\nPING\r\n$15\r\n127.0.0.1:42216\r\n$0\r\n\r\n")
    }

    @Test func argumentsAreLoggedAsTyped() {
        let log = everything()
        record(log, words("set lower x"))
        #expect(loggedArguments(log) == words("set lower x"))
    }

    // MARK: Trimming

    @Test func moreThan32ArgumentsKeep31AndCountTheRest() {
        let log = everything()
        record(log, words("RPUSH l") + (0..<40).map { b(String($0)) })
        let arguments = loggedArguments(log)
        #expect(arguments.count == 32)
        #expect(arguments[30] == b("28"))
        #expect(arguments[31] == b("... (11 more arguments)"))
    }

    @Test func exactly32ArgumentsAreKeptWhole() {
        let log = everything()
        let command = words("RPUSH l") + (0..<30).map { b(String($0)) }
        record(log, command)
        #expect(loggedArguments(log) == command)
        record(log, command + [b("30")])
        #expect(loggedArguments(log).last == b("... (2 more arguments)"))
    }

    @Test func argumentsLongerThan128BytesAreCut() {
        let log = everything()
        let x = UInt8(ascii: "x")
        record(log, [b("SET"), b("k"), [UInt8](repeating: x, count: 200)])
        #expect(loggedArguments(log)[2] == [UInt8](repeating: x, count: 128) + b("... (72 more bytes)"))
        record(log, [b("SET"), b("k"), [UInt8](repeating: x, count: 129)])
        #expect(loggedArguments(log)[2] == [UInt8](repeating: x, count: 128) + b("... (1 more bytes)"))
        record(log, [b("SET"), b("k"), [UInt8](repeating: x, count: 128)])
        #expect(loggedArguments(log)[2] == [UInt8](repeating: x, count: 128))
    }

    @Test func theCountArgumentIsNotCutEvenWhenLongArgumentsAre() {
        let long = [UInt8](repeating: UInt8(ascii: "y"), count: 300)
        let trimmed = SlowLog.trimmed([b("MSET")] + Array(repeating: long, count: 40))
        #expect(trimmed.count == 32)
        #expect(trimmed[1] == Array(long.prefix(128)) + b("... (172 more bytes)"))
        #expect(trimmed[31] == b("... (10 more arguments)"))
    }

    // MARK: Ids, length, threshold

    @Test func idsKeepGrowingAcrossReset() {
        let log = everything()
        for _ in 0..<3 { record(log, words("PING")) }
        #expect(log.answer(words("SLOWLOG RESET")) == .ok)
        #expect(log.answer(words("SLOWLOG LEN")) == .integer(0))
        record(log, words("PING"))
        #expect(log.latest().map(\.id) == [3])
    }

    @Test func theLogKeepsTheNewestMaxLengthEntries() {
        let log = SlowLog(thresholdMicroseconds: 0, maxLength: 2)
        for _ in 0..<5 { record(log, words("PING")) }
        #expect(log.latest().map(\.id) == [4, 3])
        #expect(log.answer(words("SLOWLOG LEN")) == .integer(2))
    }

    @Test func loweringMaxLengthTrimsAtTheNextLoggedCommand() {
        let log = everything()
        for _ in 0..<4 { record(log, words("PING")) }
        log.maxLength = 2
        #expect(log.count == 4)
        record(log, words("PING"))
        #expect(log.latest().map(\.id) == [4, 3])
    }

    @Test func maxLengthZeroKeepsNothingButIdsAdvance() {
        let log = SlowLog(thresholdMicroseconds: 0, maxLength: 0)
        record(log, words("PING"))
        record(log, words("PING"))
        #expect(log.count == 0)
        #expect(log.answer(words("SLOWLOG GET")) == .array([]))
        log.maxLength = 128
        record(log, words("PING"))
        #expect(log.latest().map(\.id) == [2])
    }

    @Test func theDefaultThresholdLogsCommandsOf10MillisecondsOrMore() {
        let log = SlowLog()
        #expect(log.thresholdMicroseconds == 10_000 && log.maxLength == 128)
        record(log, words("PING"), micros: 9_999)
        #expect(log.count == 0)
        record(log, words("PING"), micros: 10_000)
        #expect(log.count == 1)
    }

    @Test func thresholdZeroLogsEveryCommandAndMinusOneNone() {
        let log = everything()
        record(log, words("PING"), micros: 0)
        #expect(log.count == 1)
        log.thresholdMicroseconds = -1
        record(log, words("PING"), micros: 1_000_000_000)
        #expect(log.count == 1)
    }

    @Test func durationsAreWholeMicroseconds() {
        #expect(SlowLog.microseconds(.nanoseconds(1_999)) == 1)
        #expect(SlowLog.microseconds(.seconds(2) + .microseconds(5)) == 2_000_005)
        #expect(SlowLog.microseconds(.microseconds(-3)) == 0)
        #expect(SlowLog.microseconds(.seconds(Int64.max)) == Int64.max)
    }

    // MARK: What is logged

    @Test func execIsNotLoggedButTheCommandsItRunsAndMultiAre() {
        let log = everything()
        for command in ["MULTI", "SET a 1", "EXEC", "exec"] { record(log, words(command)) }
        #expect(log.latest().map(\.arguments) == [words("SET a 1"), words("MULTI")])
        #expect(!SlowLog.isLogged(command: b("Exec")))
        #expect(SlowLog.isLogged(command: b("SLOWLOG")) && SlowLog.isLogged(command: b("AUTH")))
    }

    @Test func slowLogCommandsThemselvesAreLogged() {
        let log = everything()
        record(log, words("SLOWLOG RESET"))
        #expect(loggedArguments(log) == words("SLOWLOG RESET"))
    }

    // MARK: Redaction

    func redacted(_ line: String) -> String {
        SlowLog.redacted(words(line)).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    @Test func authIsLoggedWithEveryArgumentRedacted() {
        #expect(redacted("AUTH pw") == "AUTH (redacted)")
        #expect(redacted("auth default pw") == "auth (redacted) (redacted)")
        #expect(redacted("AUTH a b c") == "AUTH a b c")
        let log = everything()
        record(log, words("AUTH default pw"))
        #expect(loggedArguments(log) == words("AUTH (redacted) (redacted)"))
    }

    @Test func helloRedactsAuthOfAWellFormedCommand() {
        #expect(redacted("HELLO 2 AUTH default pw") == "HELLO 2 AUTH (redacted) (redacted)")
        #expect(redacted("HELLO 2 SETNAME n AUTH u p") == "HELLO 2 SETNAME n AUTH (redacted) (redacted)")
        #expect(redacted("HELLO 2 AUTH u p FOO x") == "HELLO 2 AUTH (redacted) (redacted) FOO x")
        // Redis stops redacting at a failed AUTH and shows the second pair; this never shows a password.
        #expect(redacted("HELLO 2 auth u p AUTH v q")
            == "HELLO 2 auth (redacted) (redacted) AUTH (redacted) (redacted)")
        #expect(redacted("HELLO 4 AUTH u p") == "HELLO 4 AUTH u p")
        #expect(redacted("HELLO x AUTH u p") == "HELLO x AUTH u p")
        #expect(redacted("HELLO 3 FOO AUTH u p") == "HELLO 3 FOO AUTH u p")
        #expect(redacted("HELLO 2 AUTH u") == "HELLO 2 AUTH u")
        #expect(redacted("HELLO 2") == "HELLO 2")
    }

    @Test func migrateRedactsAuthAndAuth2UpToKeys() {
        #expect(redacted("MIGRATE 127.0.0.1 1 k 0 10 AUTH pw") == "MIGRATE 127.0.0.1 1 k 0 10 AUTH (redacted)")
        #expect(redacted("MIGRATE h 1 k 0 10 AUTH2 u pw KEYS a")
            == "MIGRATE h 1 k 0 10 AUTH2 (redacted) (redacted) KEYS a")
        #expect(redacted("MIGRATE h 1 k 0 10 COPY AUTH pw KEYS a b")
            == "MIGRATE h 1 k 0 10 COPY AUTH (redacted) KEYS a b")
        #expect(redacted("MIGRATE h 1 k 0 10 auth a auth2 b c")
            == "MIGRATE h 1 k 0 10 auth (redacted) auth2 (redacted) (redacted)")
        #expect(redacted("MIGRATE h 1 k 0 10 KEYS AUTH x") == "MIGRATE h 1 k 0 10 KEYS AUTH x")
        #expect(redacted("MIGRATE h 1 k 0 10 FOO AUTH x") == "MIGRATE h 1 k 0 10 FOO AUTH x")
        #expect(redacted("MIGRATE h 1 k 0 10 AUTH") == "MIGRATE h 1 k 0 10 AUTH")
        #expect(redacted("MIGRATE h 1 k 0 10 REPLACE AUTH2 u") == "MIGRATE h 1 k 0 10 REPLACE AUTH2 u")
    }

    @Test func configSetRedactsSensitiveValues() {
        #expect(redacted("CONFIG SET requirepass secret") == "CONFIG SET requirepass (redacted)")
        #expect(redacted("CONFIG SET masterauth secret") == "CONFIG SET masterauth (redacted)")
        #expect(redacted("CONFIG SET masteruser u") == "CONFIG SET masteruser (redacted)")
        #expect(redacted("CONFIG SET maxmemory 0 requirepass x") == "CONFIG SET maxmemory 0 requirepass (redacted)")
        #expect(redacted("CONFIG SET nosuch x REQUIREPASS y") == "CONFIG SET nosuch x REQUIREPASS (redacted)")
        #expect(redacted("config set maxmemory x masterauth y") == "config set maxmemory x masterauth (redacted)")
        // An odd number of arguments is refused before Redis looks at the names.
        #expect(redacted("CONFIG SET requirepass a b") == "CONFIG SET requirepass a b")
        #expect(redacted("CONFIG SET tls-key-file-pass x") == "CONFIG SET tls-key-file-pass x")
        #expect(redacted("CONFIG GET requirepass") == "CONFIG GET requirepass")
    }

    @Test func aclSetUserRedactsEverythingAfterSetUser() {
        #expect(redacted("ACL SETUSER bob >pw on") == "ACL SETUSER (redacted) (redacted) (redacted)")
        #expect(redacted("acl setuser y on") == "acl setuser (redacted) (redacted)")
        #expect(redacted("ACL SETUSER x") == "ACL SETUSER (redacted)")
        #expect(redacted("ACL DELUSER x y") == "ACL DELUSER x y")
    }

    @Test func redactionComesBeforeTrimming() {
        let log = everything()
        let long = String(repeating: "p", count: 300)
        record(log, words("AUTH \(long)"))
        #expect(loggedArguments(log) == words("AUTH (redacted)"))
    }

    // MARK: SLOWLOG GET

    @Test func getShowsTheNewestTenByDefault() {
        let log = everything()
        for index in 0..<12 { record(log, [b("ECHO"), b(String(index))]) }
        #expect(log.latest(10).map(\.id) == Array((Int64(2)...11).reversed()))
        guard case .array(let entries) = log.answer(words("SLOWLOG GET")) else {
            Issue.record("array expected"); return
        }
        #expect(entries == log.latest(10).map(\.reply))
        guard case .array(let all) = log.answer(words("SLOWLOG get -1")) else { Issue.record("array expected"); return }
        #expect(all.count == 12)
        #expect(log.answer(words("SLOWLOG GET 0")) == .array([]))
        guard case .array(let two) = log.answer(words("SLOWLOG GET 2")) else { Issue.record("array expected"); return }
        #expect(two == log.latest(2).map(\.reply))
        guard case .array(let many) = log.answer(words("SLOWLOG GET 9223372036854775807")) else {
            Issue.record("array expected"); return
        }
        #expect(many.count == 12)
    }

    @Test func getRefusesCountsRedisRefuses() {
        let log = everything()
        for count in ["-2", "x", "01", "+1", "-0", "1.5", "99999999999999999999", "-9223372036854775808", " 1"] {
            #expect(log.answer([b("SLOWLOG"), b("GET"), b(count)])
                == .error("ERR count should be greater than or equal to -1"), "count \(count)")
        }
        #expect(log.answer([b("SLOWLOG"), b("GET"), []]) == .error("ERR count should be greater than or equal to -1"))
    }

    // MARK: LEN, RESET, HELP, errors

    @Test func lenAndResetAnswerAsRedis() {
        let log = everything()
        #expect(wire(log.answer(words("SLOWLOG LEN"))) == ":0\r\n")
        record(log, words("PING"))
        record(log, words("PING"))
        #expect(log.answer(words("slowlog len")) == .integer(2))
        #expect(wire(log.answer(words("SLOWLOG RESET"))) == "+OK\r\n")
        #expect(log.count == 0)
    }

    @Test func helpIsRedisText() {
        #expect(wire(everything().answer(words("SLOWLOG HELP")))
            == "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n"
            + "+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n"
            + "+    Entries are made of:\r\n"
            + "+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n"
            + "+    client name\r\n+LEN\r\n+    Return the length of the slowlog.\r\n+RESET\r\n"
            + "+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n")
    }

    @Test func arityErrorsNameTheSubcommandInLowerCase() {
        let log = everything()
        #expect(log.answer(words("SLOWLOG")) == .error("ERR wrong number of arguments for 'slowlog' command"))
        #expect(log.answer(words("SLOWLOG LEN x")) == .error("ERR wrong number of arguments for 'slowlog|len' command"))
        #expect(log.answer(words("slowlog LEN x")) == .error("ERR wrong number of arguments for 'slowlog|len' command"))
        #expect(log.answer(words("SLOWLOG RESET x"))
            == .error("ERR wrong number of arguments for 'slowlog|reset' command"))
        #expect(log.answer(words("SLOWLOG help x"))
            == .error("ERR wrong number of arguments for 'slowlog|help' command"))
    }

    @Test func getWithTwoCountsIsASubcommandSyntaxError() {
        let log = everything()
        #expect(log.answer(words("SLOWLOG GET 1 2"))
            == .error("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."))
        #expect(log.answer(words("SLOWLOG Get 1 2"))
            == .error("ERR unknown subcommand or wrong number of arguments for 'Get'. Try SLOWLOG HELP."))
    }

    @Test func unknownSubcommandsAreQuotedAsRedisQuotesThem() {
        let log = everything()
        #expect(log.answer(words("SLOWLOG NOSUCH")) == .error("ERR unknown subcommand 'NOSUCH'. Try SLOWLOG HELP."))
        #expect(log.answer(words("slowlog nosuch extra more"))
            == .error("ERR unknown subcommand 'nosuch'. Try SLOWLOG HELP."))
        let long = String(repeating: "a", count: 200)
        #expect(log.answer([b("SLOWLOG"), b(long)])
            == .error("ERR unknown subcommand '\(String(repeating: "a", count: 128))'. Try SLOWLOG HELP."))
        #expect(log.answer([b("SLOWLOG"), b("a\u{0}b")]) == .error("ERR unknown subcommand 'a'. Try SLOWLOG HELP."))
        #expect(log.answer([b("SLOWLOG"), b("GET\u{0}"), b("1"), b("2")])
            == .error("ERR unknown subcommand 'GET'. Try SLOWLOG HELP."))
        // CR and LF become spaces on the wire, as Redis prints them.
        #expect(wire(log.answer([b("SLOWLOG"), b("a\r\nb")]))
            == "-ERR unknown subcommand 'a  b'. Try SLOWLOG HELP.\r\n")
    }

    // MARK: CONFIG SET

    @Test func configValuesAreCheckedAsRedisChecksThem() throws {
        #expect(try SlowLog.thresholdParameter.parse(b("-1")) == -1)
        #expect(try SlowLog.thresholdParameter.parse(b("0")) == 0)
        #expect(try SlowLog.maxLengthParameter.parse(b("9223372036854775807")) == Int64.max)
        #expect(throws: IntegerConfigParameter.Failure.outOfRange(parameter: "slowlog-log-slower-than", minimum: -1,
                                                                   maximum: .max)) {
            try SlowLog.thresholdParameter.parse(self.b("-2"))
        }
        for bad in ["x", "1.5", "+5", "05", "", "1k", "99999999999999999999", "-0", " 5", "5 "] {
            #expect(throws: IntegerConfigParameter.Failure.notAnInteger(parameter: "slowlog-max-len")) {
                try SlowLog.maxLengthParameter.parse(self.b(bad))
            }
        }
        #expect(IntegerConfigParameter.Failure.outOfRange(parameter: "slowlog-log-slower-than", minimum: -1,
                                                          maximum: .max).message
            == "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be "
            + "between -1 and 9223372036854775807 inclusive")
        #expect(IntegerConfigParameter.Failure.outOfRange(parameter: "slowlog-max-len", minimum: 0, maximum: .max).reply
            == .error("ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be "
                + "between 0 and 9223372036854775807 inclusive"))
        #expect(IntegerConfigParameter.Failure.notAnInteger(parameter: "slowlog-log-slower-than").message
            == "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument couldn't be "
            + "parsed into an integer")
    }

    @Test func thresholdAndMaxLengthCanBeChanged() {
        let log = SlowLog()
        log.thresholdMicroseconds = 5
        log.maxLength = 3
        #expect(log.thresholdMicroseconds == 5 && log.maxLength == 3)
    }
}
