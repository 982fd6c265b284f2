import RESP
import Testing

@testable import RedisCommands

/// `COMMAND GETKEYS`, `GETKEYSANDFLAGS` and COMMAND INFO's key positions; every expected reply below was read
/// from redis-server 7.0.15.
@Suite struct CommandKeysTests {
    typealias Flags = CommandKeys.KeyFlags

    func words(_ texts: String...) -> [[UInt8]] { texts.map { Array($0.utf8) } }

    /// The keys and flag names CommandKeys finds for the request, or its error line.
    func lookup(_ texts: String...) -> Result<[String], KeyLookupError> {
        let arguments = texts.map { Array($0.utf8) }
        return CommandKeys.references(arguments).map { found in
            found.map { reference -> String in
                let key = String(decoding: arguments[reference.position], as: UTF8.self)
                return "\(key) \(reference.flags.names.joined(separator: ","))"
            }
        }
    }

    // MARK: - The table

    @Test func everySupportedCommandHasAnEntry() {
        for name in RedisCommandParser.commandNames {
            #expect(CommandKeys.table[name] != nil,
                    "\(name) needs an entry in CommandKeys.table: copy COMMAND INFO \(name) from Redis 7.0")
        }
        let unknown = Set(CommandKeys.table.keys).subtracting(RedisCommandParser.commandNameSet)
        #expect(unknown.isEmpty, "entries for commands the parser does not know: \(unknown.sorted())")
        let containers = Set(CommandKeys.subcommands.keys).subtracting(RedisCommandParser.commandNameSet)
        #expect(containers.isEmpty, "subcommands of commands the parser does not know: \(containers.sorted())")
    }

    @Test func everyEntryIsConsistent() {
        for (name, entry) in CommandKeys.table {
            // A scan exists exactly where Redis has a getkeys function: moving keys, or flags that vary.
            let moves = entry.specs.contains {
                if case .keyCount = $0.find { return true }
                if case .keyword = $0.begin { return true }
                return false
            }
            #expect((moves || entry.hasVariableFlags) == (entry.scan != nil), "\(name)")
            let scripts: Set<String> = ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]
            #expect(entry.keysOptional == scripts.contains(name), "\(name)")
            if entry.specs.isEmpty {
                #expect([entry.firstKey, entry.lastKey, entry.keyStep] == [0, 0, 0], "\(name)")
            }
        }
    }

    @Test func legacyPositionsAreWhatCommandInfoReports() {
        let expected: [String: [Int]] = [
            "get": [1, 1, 1], "mset": [1, -1, 2], "msetnx": [1, -1, 2], "del": [1, -1, 1], "ping": [0, 0, 0],
            "eval": [0, 0, 0], "fcall": [0, 0, 0], "bitop": [2, -1, 1], "blpop": [1, -2, 1], "bzpopmin": [1, -2, 1],
            "zunionstore": [1, 1, 1], "zunion": [0, 0, 0], "lcs": [1, 2, 1], "lmove": [1, 2, 1], "xread": [0, 0, 0],
            "ssubscribe": [1, -1, 1], "spublish": [1, 1, 1], "subscribe": [0, 0, 0], "keys": [0, 0, 0],
            "object": [0, 0, 0], "watch": [1, -1, 1], "pfmerge": [1, -1, 1],
        ]
        for (name, positions) in expected {
            guard let entry = CommandKeys.table[name] else {
                Issue.record("\(name) missing")
                continue
            }
            #expect([entry.firstKey, entry.lastKey, entry.keyStep] == positions, "\(name)")
        }
        // COMMAND INFO's fields 4 to 6 (after name, arity and flags).
        let info = CommandIntrospection.reply(subcommand: words("info").first, names: words("mset", "ping", "bitop"))
        guard case .array(let entries) = info, entries.count == 3 else {
            Issue.record("three entries expected, got \(info)")
            return
        }
        let positions = entries.map { entry -> [RESPValue] in
            guard case .array(let fields) = entry, fields.count >= 6 else { return [] }
            return Array(fields[3...5])
        }
        #expect(positions == [[.integer(1), .integer(-1), .integer(2)], [.integer(0), .integer(0), .integer(0)],
                              [.integer(2), .integer(-1), .integer(1)]])
    }

    @Test func flagNamesComeInRedisOrder() {
        #expect(Flags([.delete, .access, .readWrite]).names == ["RW", "access", "delete"])
        #expect(Flags([.variableFlags, .update, .readWrite, .access]).names
            == ["RW", "access", "update", "variable_flags"])
        #expect(Flags().names.isEmpty)
    }

    // MARK: - Fixed positions

    @Test func fixedPositionsFollowTheKeySpecs() {
        #expect(lookup("GET", "a") == .success(["a RO,access"]))
        #expect(lookup("get", "a") == .success(["a RO,access"]), "the name is case-insensitive")
        #expect(lookup("MSET", "a", "1", "b", "2") == .success(["a OW,update", "b OW,update"]))
        #expect(lookup("MSET", "a", "1", "b") == .success(["a OW,update", "b OW,update"]), "every other argument")
        #expect(lookup("DEL", "a", "b") == .success(["a RM,delete", "b RM,delete"]))
        #expect(lookup("RENAME", "a", "b") == .success(["a RW,access,delete", "b OW,update"]))
        #expect(lookup("BITOP", "AND", "d", "a", "b") == .success(["d OW,update", "a RO,access", "b RO,access"]))
        #expect(lookup("BRPOP", "a", "b", "0") == .success(["a RW,access,delete", "b RW,access,delete"]),
                "the last argument is the timeout")
        #expect(lookup("LCS", "a", "b", "IDX") == .success(["a RO,access", "b RO,access"]))
        #expect(lookup("PFCOUNT", "a", "b") == .success(["a RW,access", "b RW,access"]))
        #expect(lookup("PFMERGE", "d", "a") == .success(["d RW,access,insert", "a RO,access"]))
        #expect(lookup("WATCH", "a", "b") == .success(["a RO", "b RO"]))
    }

    @Test func keysAreReturnedAsTheirBytes() {
        let key: [UInt8] = [0xFF, 0x00, 0xFE]
        #expect(CommandKeys.keys([Array("GET".utf8), key]) == .success([key]))
    }

    @Test func containerSubcommandsNameTheirKeys() {
        #expect(lookup("OBJECT", "ENCODING", "k") == .success(["k RO"]))
        #expect(lookup("object", "freq", "k") == .success(["k RO"]))
        #expect(lookup("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == .success(["s RW,insert"]))
        #expect(lookup("XGROUP", "DESTROY", "s", "g") == .success(["s RW,delete"]))
        #expect(lookup("XINFO", "STREAM", "s") == .success(["s RO,access"]))
        #expect(lookup("MEMORY", "USAGE", "k", "SAMPLES", "5") == .success(["k RO"]))
    }

    // MARK: - Movable keys

    @Test func scriptsTakeNumkeysKeys() {
        #expect(lookup("EVAL", "return 1", "2", "a", "b", "c")
            == .success(["a RW,access,update", "b RW,access,update"]))
        #expect(lookup("EVALSHA", "x", "1", "a") == .success(["a RW,access,update"]))
        #expect(lookup("EVAL_RO", "x", "1", "a") == .success(["a RO,access"]))
        #expect(lookup("EVALSHA_RO", "x", "1", "a") == .success(["a RO,access"]))
        #expect(lookup("FCALL", "f", "1", "a") == .success(["a RW,access,update"]))
        #expect(lookup("FCALL_RO", "f", "1", "a") == .success(["a RO,access"]))
        #expect(lookup("EVAL", "x", "0") == .success([]), "a script may take no keys")
        #expect(lookup("EVAL", "x", "3", "a", "b") == .success([]), "more keys than arguments: none")
        #expect(lookup("EVAL", "x", "-1", "a") == .success([]))
        #expect(lookup("EVAL", "x", "abc", "a") == .success([]))
    }

    @Test func aKeyCountTheSpecRefusesIsReadAsAtoiWithoutFlags() {
        // string2ll refuses these; Redis's own scan reads them with atoi, and its keys carry no flags.
        #expect(lookup("EVAL", "x", "01", "a") == .success(["a "]))
        #expect(lookup("EVAL", "x", " 1", "a") == .success(["a "]))
        #expect(lookup("EVAL", "x", "+1", "a") == .success(["a "]))
        #expect(lookup("EVAL", "x", "1abc", "a") == .success(["a "]))
        #expect(lookup("EVAL", "x", "-4294967294", "a", "b") == .success(["a ", "b "]), "atoi narrows to an int")
        // The spec narrows a count it accepts to an int too: 4294967297 is one key, with the spec's flags.
        #expect(lookup("EVAL", "x", "4294967297", "a") == .success(["a RW,access,update"]))
        #expect(lookup("EVAL", "x", "9223372036854775807", "a") == .success([]))
        #expect(lookup("EVAL", "x", "99999999999999999999", "a") == .success([]), "strtol clamps, then -1")
    }

    @Test func sortedSetCombinationsTakeNumkeysKeys() {
        #expect(lookup("ZUNION", "2", "a", "b", "WEIGHTS", "1", "2") == .success(["a RO,access", "b RO,access"]))
        #expect(lookup("ZINTER", "2", "a", "b", "WITHSCORES") == .success(["a RO,access", "b RO,access"]))
        #expect(lookup("ZDIFF", "1", "a") == .success(["a RO,access"]))
        #expect(lookup("ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2")
            == .success(["d OW,update", "a RO,access", "b RO,access"]))
        #expect(lookup("ZDIFFSTORE", "d", "1", "a") == .success(["d OW,update", "a RO,access"]))
        #expect(lookup("ZUNIONSTORE", "d", "2x", "a", "b") == .success(["a ", "b ", "d "]),
                "Redis's own scan reports the destination last")
        #expect(lookup("ZINTERCARD", "2", "a", "b", "LIMIT", "5") == .success(["a RO,access", "b RO,access"]))
        #expect(lookup("SINTERCARD", "1", "a") == .success(["a RO,access"]))
        #expect(lookup("ZUNION", "0", "a") == .failure(.invalidArguments))
        #expect(lookup("ZUNION", "2", "a") == .failure(.invalidArguments))
        #expect(lookup("ZUNIONSTORE", "d", "3", "a", "b") == .failure(.invalidArguments))
        #expect(lookup("SINTERCARD", "3", "a", "b") == .failure(.invalidArguments))
    }

    @Test func multiPopsTakeNumkeysKeys() {
        #expect(lookup("LMPOP", "2", "a", "b", "LEFT") == .success(["a RW,access,delete", "b RW,access,delete"]))
        #expect(lookup("LMPOP", "3", "a", "b", "LEFT")
            == .success(["a RW,access,delete", "b RW,access,delete", "LEFT RW,access,delete"]))
        #expect(lookup("LMPOP", "4", "a", "b", "LEFT") == .failure(.invalidArguments))
        #expect(lookup("BLMPOP", "0", "2", "a", "b", "LEFT") == .success(["a RW,access,delete", "b RW,access,delete"]))
        #expect(lookup("ZMPOP", "1", "a", "MIN") == .success(["a RW,access,delete"]))
        #expect(lookup("BZMPOP", "1.5", "2", "a", "b", "MAX", "COUNT", "2")
            == .success(["a RW,access,delete", "b RW,access,delete"]))
    }

    @Test func streamReadsTakeHalfOfWhatFollowsStreams() {
        #expect(lookup("XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0")
            == .success(["a RO,access", "b RO,access"]))
        #expect(lookup("XREAD", "streams", "a", "0") == .success(["a RO,access"]))
        #expect(lookup("XREAD", "STREAMS", "a", "b", "0") == .success(["a RO,access"]), "an odd count rounds down")
        #expect(lookup("XREAD", "COUNT", "STREAMS", "STREAMS", "a", "0") == .success(["STREAMS RO,access"]),
                "the spec takes the first STREAMS, even an option's value")
        #expect(lookup("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "0") == .success(["a RO,access"]))
        #expect(lookup("XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "s", ">") == .success(["s RO,access"]),
                "XREADGROUP's search starts after GROUP's two values")
        #expect(lookup("XREAD", "COUNT", "1", "a", "0") == .failure(.invalidArguments), "no STREAMS")
        #expect(lookup("XREAD", "COUNT", "1", "STREAMS", "a") == .failure(.invalidArguments))
        #expect(lookup("XREADGROUP", "STREAMS", "a", "b", "GROUP", "g", "c", "x") == .failure(.invalidArguments),
                "a spec whose keyword is missing finds nothing, and the scan is not asked")
        #expect(lookup("XREADGROUP", "STREAMS", "a", "b", "c", "d", "STREAMS", "x") == .success(["a ", "b ", "c "]),
                "a STREAMS with one argument after it sends Redis to its own scan")
    }

    @Test func keywordsAreComparedAsCStrings() {
        let arguments: [[UInt8]] = [Array("SET".utf8), Array("a".utf8), Array("b".utf8), Array("get".utf8) + [0, 0x78]]
        #expect(CommandKeys.references(arguments).map { $0.map(\.flags) } == .success([[.readWrite, .access, .update]]))
        #expect(CommandKeys.isWord(Array("STREAMS".utf8) + [0], "STREAMS"))
        #expect(!CommandKeys.isWord(Array("STREAMSX".utf8), "STREAMS"))
        #expect(CommandKeys.references([Array("get".utf8) + [0], Array("a".utf8)]).map { $0.count }
            == .failure(.invalidCommand), "a command name is compared whole")
    }

    @Test func setAndBitFieldFlagsDependOnTheirOptions() {
        #expect(lookup("SET", "k", "v") == .success(["k OW,update"]))
        #expect(lookup("SET", "k", "v", "NX", "get") == .success(["k RW,access,update"]))
        #expect(lookup("SET", "k", "GET") == .success(["k OW,update"]), "GET must follow the value")
        #expect(lookup("BITFIELD", "k") == .success(["k RO,access"]))
        #expect(lookup("BITFIELD", "k", "OVERFLOW", "WRAP", "GET", "u8", "0") == .success(["k RO,access"]))
        #expect(lookup("BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1") == .success(["k RW,access,update"]))
        #expect(lookup("BITFIELD", "k", "INCRBY", "u8", "0", "1") == .success(["k RW,access,update"]))
        #expect(lookup("BITFIELD", "k", "GET", "u8") == .success(["k RW,access,update"]), "an incomplete GET")
        #expect(lookup("BITFIELD_RO", "k", "GET", "u8", "0") == .success(["k RO,access"]))
    }

    @Test func atoiReadsLikeGlibc() {
        func read(_ text: String) -> Int32 { CommandKeys.cIntegerPrefix(Array(text.utf8)) }
        #expect(read("12") == 12)
        #expect(read(" \t\n+7x") == 7)
        #expect(read("-3") == -3)
        #expect(read("x1") == 0)
        #expect(read("") == 0)
        #expect(read("4294967297") == 1)
        #expect(read("18446744073709551617") == -1, "clamped to LONG_MAX, whose low 32 bits are -1")
        #expect(read("-99999999999999999999") == 0, "clamped to LONG_MIN, whose low 32 bits are 0")
        #expect(CommandKeys.cIntegerPrefix(Array("1".utf8) + [0, 0x32]) == 1, "a NUL ends the number")
    }

    // MARK: - Errors

    @Test func errorsComeInRedisOrder() {
        #expect(lookup("NOSUCH", "a") == .failure(.invalidCommand))
        #expect(lookup("GÉT", "a") == .failure(.invalidCommand), "only ASCII letters fold")
        #expect(CommandKeys.references([]) == .failure(.invalidCommand))
        #expect(lookup("OBJECT", "NOSUCH", "k") == .failure(.invalidCommand))
        #expect(lookup("PING", "a") == .failure(.noKeyArguments))
        #expect(lookup("PUBLISH", "ch", "m") == .failure(.noKeyArguments))
        #expect(lookup("SPUBLISH", "ch", "m") == .failure(.noKeyArguments), "shard channels are not keys")
        #expect(lookup("SSUBSCRIBE", "ch") == .failure(.noKeyArguments))
        #expect(lookup("KEYS", "*") == .failure(.noKeyArguments))
        #expect(lookup("CLIENT", "LIST") == .failure(.noKeyArguments))
        #expect(lookup("OBJECT", "HELP") == .failure(.noKeyArguments))
        #expect(lookup("OBJECT") == .failure(.noKeyArguments), "a bare container describes itself")
        #expect(lookup("GET") == .failure(.wrongArgumentCount))
        #expect(lookup("GET", "a", "b") == .failure(.wrongArgumentCount))
        #expect(lookup("OBJECT", "ENCODING") == .failure(.wrongArgumentCount), "the subcommand's arity")
        #expect(lookup("XGROUP", "CREATE", "s", "g") == .failure(.wrongArgumentCount))
        #expect(lookup("PFMERGE", "d") == .failure(.invalidArguments), "a spec past the end")
    }

    @Test func errorLinesAreRedisOwn() {
        #expect(KeyLookupError.invalidCommand.message == "ERR Invalid command specified")
        #expect(KeyLookupError.noKeyArguments.message == "ERR The command has no key arguments")
        #expect(KeyLookupError.wrongArgumentCount.message == "ERR Invalid number of arguments specified for command")
        #expect(KeyLookupError.invalidArguments.message == "ERR Invalid arguments specified for command")
    }

    // MARK: - The COMMAND replies

    @Test func getKeysRepliesWithTheKeysOrTheError() {
        func reply(_ subcommand: String, _ rest: String...) -> RESPValue {
            CommandIntrospection.reply(subcommand: Array(subcommand.utf8), names: rest.map { Array($0.utf8) })
        }
        #expect(reply("GETKEYS", "MSET", "a", "1", "b", "2") == .array([.bulk("a"), .bulk("b")]))
        #expect(reply("getkeys", "EVAL", "x", "0") == .array([]))
        #expect(reply("GETKEYS", "GET") == .error("ERR wrong number of arguments for 'command|getkeys' command"))
        #expect(reply("GETKEYS") == .error("ERR wrong number of arguments for 'command|getkeys' command"))
        #expect(reply("GETKEYSANDFLAGS", "NOSUCH")
            == .error("ERR wrong number of arguments for 'command|getkeysandflags' command"))
        #expect(reply("GETKEYS", "NOSUCH", "a") == .error("ERR Invalid command specified"))
        #expect(reply("GETKEYS", "PING", "a") == .error("ERR The command has no key arguments"))
        #expect(reply("GETKEYS", "GET", "a", "b") == .error("ERR Invalid number of arguments specified for command"))
        #expect(reply("GETKEYS", "ZUNION", "0", "a") == .error("ERR Invalid arguments specified for command"))
        #expect(reply("GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT") == .array([
            .array([.bulk("a"), .set([.simpleString("RW"), .simpleString("access"), .simpleString("delete")])]),
            .array([.bulk("b"), .set([.simpleString("RW"), .simpleString("insert")])]),
        ]))
        #expect(reply("GETKEYSANDFLAGS", "ZUNION", "2x", "a", "b")
            == .array([.array([.bulk("a"), .set([])]), .array([.bulk("b"), .set([])])]))
    }
}
