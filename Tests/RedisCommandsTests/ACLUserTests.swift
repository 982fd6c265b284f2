import RESP
import Testing

@testable import RedisCommands

/// Every expected line, reply and error text here was read from redis-server 7.0.15 (`ACL SETUSER`, `ACL LIST`,
/// `ACL GETUSER`, `ACL DRYRUN`, `ACL CAT` over a raw socket). Where Redis prints single commands in the order of
/// its command dictionary, which changes with every server start, the expected text has the table's sorted
/// order and the test says so.
@Suite struct ACLUserTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// `ACL SETUSER u rules…` on a new user: the `ACL LIST` line, or the error line.
    static func outcome(_ rules: [String]) -> String {
        outcome(rules.map(bytes))
    }

    static func outcome(_ rules: [[UInt8]]) -> String {
        do throws(ACLSetUserError) {
            return try ACLUser.settingUser(nil, name: bytes("u"), rules: rules).describe()
        } catch {
            return error.description
        }
    }

    static func user(_ rules: String...) -> ACLUser {
        do throws(ACLSetUserError) {
            return try ACLUser.settingUser(nil, name: bytes("u"), rules: rules.map(bytes))
        } catch {
            preconditionFailure("test rules are valid: \(error)")
        }
    }

    static func wire(_ value: RESPValue, _ version: RESPValue.ProtocolVersion = .resp2) -> String {
        String(decoding: value.encoded(version), as: UTF8.self)
    }

    // MARK: ACL LIST

    @Test(arguments: ACLUserTests.exact)
    func listLineMatchesRedis(rules: [String], expected: String) {
        #expect(Self.outcome(rules) == expected)
    }

    @Test(arguments: ACLUserTests.reordered)
    func listLineHasRedisWordsInTableOrder(rules: [String], expected: String) {
        #expect(Self.outcome(rules) == expected)
    }

    @Test func aNewUserIsOffWithoutChannelsOrCommands() {
        #expect(ACLUser(name: Self.bytes("u")).describe() == "user u off resetchannels -@all")
    }

    @Test func theDefaultUserMayDoEverything() {
        #expect(ACLUser.defaultUser().describe() == "user default on nopass ~* &* +@all")
    }

    @Test func categoriesAreChosenByBestFitNotReplayed() {
        // Redis describes +@read +@write as +@write +@read: @write fits what is left better.
        #expect(Self.outcome(["+@read", "+@write"]) == "user u off resetchannels -@all +@write +@read")
        #expect(
            Self.outcome(["+@set", "+@sortedset", "+@list"])
                == "user u off resetchannels -@all +@sortedset +@list +@set")
    }

    @Test func singleCommandsComeInTableOrder() {
        // Redis printed `-@all +lpush +config +zadd +set +get +hget +client` on one start and
        // `-@all +hget +set +client +zadd +get +lpush +config` on another.
        #expect(
            Self.outcome(["+get", "+set", "+hget", "+lpush", "+zadd", "+client", "+config"])
                == "user u off resetchannels -@all +client +config +get +hget +lpush +set +zadd")
    }

    @Test func firstArgumentsFollowTheirCommandInTheOrderAdded() {
        #expect(
            Self.outcome(["+@all", "-select", "+select|1", "+select|0", "+select|1"])
                == "user u off resetchannels +@all -select +select|1 +select|0")
    }

    @Test func newSelectorsAndResetAllowEveryChannelUnderAllChannelsDefault() throws {
        func line(_ rules: [String]) -> String {
            do throws(ACLSetUserError) {
                return try ACLUser.settingUser(
                    nil, name: Self.bytes("u"), rules: rules.map(Self.bytes), channelsAllowedByDefault: true
                ).describe()
            } catch {
                return error.description
            }
        }
        #expect(line([]) == "user u off &* -@all")
        #expect(line(["reset"]) == "user u off sanitize-payload &* -@all")
        #expect(line(["(+get)"]) == "user u off &* -@all (&* -@all +get)")
        #expect(line(["resetchannels", "&a", "reset"]) == "user u off sanitize-payload &* -@all")
        #expect(
            line(["resetchannels", "(&b)"]) == "ERR Error in ACL SETUSER modifier '(&b)': Adding a pattern after "
                + "the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try "
                + "'resetchannels' to start with an empty list of channels")
    }

    @Test func bytesThatAreNotUTF8AreKeptInTheListEntry() {
        let user = ACLUser.settingUserOrTrap(rules: [[UInt8(ascii: "~"), 0x85], [UInt8(ascii: "&"), 0xA0, 0x78]])
        #expect(
            user.listEntry() == Self.bytes("user u off ~") + [0x85] + Self.bytes(" resetchannels &") + [0xA0, 0x78]
                + Self.bytes(" -@all"))
    }

    // MARK: ACL SETUSER errors

    @Test(arguments: ACLUserTests.errors)
    func refusedRuleAnswersRedisError(rules: [String], expected: String) {
        #expect(Self.outcome(rules) == expected)
    }

    @Test func aRefusedRuleChangesNothing() throws {
        let before = Self.user("on", ">p", "~a", "+get")
        #expect(throws: ACLSetUserError.self) {
            _ = try ACLUser.settingUser(before, name: Self.bytes("u"), rules: ["+set", "+nosuch"].map(Self.bytes))
        }
        let after = try ACLUser.settingUser(before, name: Self.bytes("u"), rules: [Self.bytes("+set")])
        #expect(after.describe().hasSuffix("~a resetchannels -@all +get +set"))
    }

    @Test func ruleErrorsCarryTheReason() {
        var user = ACLUser(name: Self.bytes("u"))
        #expect(throws: ACLRuleError(.unknownCommandOrCategory, rule: Self.bytes("+nosuchcmd"))) {
            try user.apply(rule: Self.bytes("+nosuchcmd"))
        }
        #expect(throws: ACLRuleError(.firstArgumentOfSubcommand, rule: Self.bytes("+config|get|x"))) {
            try user.apply(rule: Self.bytes("+config|get|x"))
        }
        #expect(throws: ACLRuleError(.syntaxError, rule: Self.bytes("%X~a"))) {
            try user.apply(rule: Self.bytes("%X~a"))
        }
    }

    @Test func userNamesMayNotHoldSpacesOrNUL() {
        for name in ["u a", "u\u{0}", "u\tx"] {
            #expect(throws: ACLSetUserError.invalidUserName) {
                _ = try ACLUser.settingUser(nil, name: Self.bytes(name), rules: [])
            }
        }
        #expect(ACLSetUserError.invalidUserName.description == "ERR Usernames can't contain spaces or null characters")
        // An empty name is accepted, as by Redis.
        #expect(throws: Never.self) { _ = try ACLUser.settingUser(nil, name: [], rules: []) }
    }

    @Test func keywordsAndNamesStopAtNULButPatternsDoNot() {
        #expect(Self.outcome([Self.bytes("on\u{0}x")]) == "user u on resetchannels -@all")
        #expect(Self.outcome([Self.bytes("+get\u{0}x")]) == "user u off resetchannels -@all +get")
        #expect(Self.outcome([Self.bytes("+@read\u{0}x")]) == "user u off resetchannels -@all +@read")
        #expect(Self.outcome([Self.bytes("allkeys\u{0}x")]) == "user u off ~* resetchannels -@all")
        // The pattern keeps its NUL and is refused; the error prints the rule as a C string.
        #expect(Self.outcome([Self.bytes("~a\u{0}b")]) == "ERR Error in ACL SETUSER modifier '~a': Syntax error")
        // A selector's body is read as a C string.
        #expect(
            Self.outcome([Self.bytes("(+get\u{0}~a)")])
                == "user u off resetchannels -@all (resetchannels -@all +get)")
        // A selector argument is joined as a C string, so the closing parenthesis after the NUL is lost.
        #expect(
            Self.outcome([Self.bytes("(+get"), Self.bytes("~a\u{0}b)")])
                == "ERR Error in ACL SETUSER modifier '(+get ~a': Syntax error")
    }

    @Test func patternsRefuseEveryCSpaceCharacter() {
        for space in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20] as [UInt8] {
            #expect(Self.outcome([Self.bytes("~a") + [space] + Self.bytes("b")]).hasSuffix("': Syntax error"))
            #expect(Self.outcome([Self.bytes("&a") + [space] + Self.bytes("b")]).hasSuffix("': Syntax error"))
        }
        // A password may hold anything.
        #expect(
            Self.outcome(["on", ">a b"])
                == "user u on #c8687a08aa5d6ed2044328fa6a697ab8e96dc34291e8c2034ae8c38e6fcc6d65 resetchannels -@all")
    }

    @Test func crAndLFInAnErrorBecomeSpacesOnTheWire() {
        let reply = RESPValue.error(Self.outcome([Self.bytes("bad\r\nrule")]))
        #expect(Self.wire(reply) == "-ERR Error in ACL SETUSER modifier 'bad  rule': Syntax error\r\n")
    }

    // MARK: Selectors

    @Test func selectorWordsAreSplitAsRedisSplitsArguments() {
        #expect(Self.outcome(["(\"~a\\n\")"]) == "ERR Error in ACL SETUSER modifier '(\"~a\\n\")': Syntax error")
        #expect(Self.outcome(["(\"&a\\x4\")"]) == "user u off resetchannels -@all (resetchannels &ax4 -@all)")
        #expect(Self.outcome(["('~it\\'s')"]) == "user u off resetchannels -@all (~it's resetchannels -@all)")
        #expect(Self.outcome(["(\"~q\\\"x\")"]) == "user u off resetchannels -@all (~q\"x resetchannels -@all)")
        // A vertical tab is a blank between words but not the end of one.
        #expect(
            Self.outcome(["(\u{0B}~v\u{0B}+get)"])
                == "ERR Error in ACL SETUSER modifier '(\u{0B}~v\u{0B}+get)': Syntax error")
    }

    @Test func selectorArgumentsAreMergedUpToTheClosingOne() throws {
        let merged = try ACLUser.mergingSelectorArguments(
            ["on", "(+get", "~a", "&b)", "(+set)", "off"].map(Self.bytes))
        #expect(merged == ["on", "(+get ~a &b)", "(+set)", "off"].map(Self.bytes))
        #expect(throws: ACLSetUserError.unmatchedParenthesis(argument: Self.bytes("(y"))) {
            _ = try ACLUser.mergingSelectorArguments(["(+get", "x", "(y"].map(Self.bytes))
        }
    }

    @Test func aRequestIsAllowedWhenOneSelectorAllowsAllOfIt() {
        let user = Self.user("on", "+get", "~a", "(+set ~b)")
        let readsKey = [ACLKeyAccess(position: 1, permissions: .read)]
        let writesKey = [ACLKeyAccess(position: 1, permissions: .write)]
        #expect(user.denial(arguments: ["get", "a"].map(Self.bytes), keys: readsKey) == nil)
        #expect(user.denial(arguments: ["set", "b", "v"].map(Self.bytes), keys: writesKey) == nil)
        // GET is the root's, key b the selector's: no single selector allows GET b.
        #expect(user.denial(arguments: ["get", "b"].map(Self.bytes), keys: readsKey) == .key(position: 1))
        #expect(user.mayRun(command: "set", subcommand: nil))
        #expect(user.mayAccess(key: Self.bytes("b"), read: true, write: true))
    }

    // MARK: Command rules in order

    @Test func laterRulesOverrideEarlierOnesOverEveryCommand() {
        let noWrites = Self.user("+@all", "-@write")
        #expect(noWrites.mayRun(command: "get", subcommand: nil))
        #expect(!noWrites.mayRun(command: "set", subcommand: nil))
        #expect(noWrites.mayRun(command: "config", subcommand: "set"))  // @admin, not @write
        let oneWrite = Self.user("+@all", "-@write", "+set")
        #expect(oneWrite.mayRun(command: "SET", subcommand: nil))
        #expect(!oneWrite.mayRun(command: "del", subcommand: nil))
        let readsAgain = Self.user("-@read", "+@all", "-@read", "+@read")
        #expect(readsAgain.mayRun(command: "get", subcommand: nil))
        #expect(readsAgain.describe() == "user u off resetchannels +@all")
    }

    @Test func aSubcommandRuleAllowsOnlyThatSubcommand() {
        let user = Self.user("+config|get")
        #expect(user.mayRun(command: "config", subcommand: "GET"))
        #expect(!user.mayRun(command: "config", subcommand: "set"))
        #expect(!user.mayRun(command: "config", subcommand: nil))
        #expect(!user.mayRun(command: "config", subcommand: "nosuch"))
        let allButKill = Self.user("+client", "-client|kill")
        #expect(allButKill.mayRun(command: "client", subcommand: "list"))
        #expect(!allButKill.mayRun(command: "client", subcommand: "kill"))
        // +client after -client|kill gives every subcommand back.
        #expect(Self.user("+client", "-client|kill", "+client").mayRun(command: "client", subcommand: "kill"))
    }

    @Test func aFirstArgumentRuleAllowsOnlyThatArgumentInAnyCase() {
        let user = Self.user("+select|0", "+select|abc")
        #expect(user.mayRun(command: "select", subcommand: "0"))
        #expect(user.mayRun(command: "select", subcommand: "ABC"))
        #expect(!user.mayRun(command: "select", subcommand: "1"))
        #expect(!user.mayRun(command: "select", subcommand: nil))
        // -select, +select and categories forget first arguments.
        #expect(!Self.user("+select|0", "-select").mayRun(command: "select", subcommand: "0"))
        #expect(!Self.user("+select|0", "-@all").mayRun(command: "select", subcommand: "0"))
        #expect(!Self.user("+select|0", "+@connection", "-@connection").mayRun(command: "select", subcommand: "0"))
    }

    @Test func authHelloQuitAndResetIgnoreCommandRules() {
        let nothing = Self.user("on", "-@all")
        for command in ["auth", "HELLO", "quit", "reset"] {
            #expect(nothing.mayRun(command: command, subcommand: nil))
        }
        #expect(!nothing.mayRun(command: "ping", subcommand: nil))
        #expect(!nothing.mayRun(command: "nosuch", subcommand: nil))
    }

    @Test func allCommandsDescribesFromAllAndNoCommandsFromNone() {
        #expect(Self.user("allcommands", "-get").selectorDescription() == "+@all -get")
        #expect(Self.user("+@all", "nocommands", "+get").selectorDescription() == "-@all +get")
        // Adding every category is not +@all: commands added to the server later would still be denied.
        #expect(!Self.user("+@all", "-@all").root.allowsFutureCommands)
    }

    // MARK: Keys and channels

    @Test func keyPatternsGrantReadWriteOrBoth() {
        let user = Self.user("~k*", "%R~r*", "%W~w*")
        #expect(user.mayAccess(key: Self.bytes("k1"), read: true, write: true))
        #expect(user.mayAccess(key: Self.bytes("r1"), read: true, write: false))
        #expect(!user.mayAccess(key: Self.bytes("r1"), read: false, write: true))
        #expect(user.mayAccess(key: Self.bytes("w1"), read: false, write: true))
        #expect(!user.mayAccess(key: Self.bytes("w1"), read: true, write: true))
        // A key neither read nor written (EXISTS, TYPE) needs only a matching pattern.
        #expect(user.mayAccess(key: Self.bytes("w1"), read: false, write: false))
        #expect(!user.mayAccess(key: Self.bytes("x"), read: false, write: false))
        #expect(Self.user("allkeys").mayAccess(key: Self.bytes("anything"), read: true, write: true))
    }

    @Test func channelsMatchAsGlobsButPatternsOnlyLiterally() {
        let user = Self.user("&ch*", "&d")
        #expect(user.mayUse(channel: Self.bytes("ch1"), isPattern: false))
        #expect(!user.mayUse(channel: Self.bytes("other"), isPattern: false))
        #expect(user.mayUse(channel: Self.bytes("ch*"), isPattern: true))
        #expect(!user.mayUse(channel: Self.bytes("ch1*"), isPattern: true))
        #expect(!user.mayUse(channel: Self.bytes("c*"), isPattern: true))
        // Redis compares a pattern with strcmp: the channel counts up to its first NUL.
        #expect(Self.user("&a").mayUse(channel: Self.bytes("a\u{0}x"), isPattern: true))
        #expect(!ACLUser(name: Self.bytes("u")).mayUse(channel: Self.bytes("a"), isPattern: false))
        #expect(Self.user("allchannels").mayUse(channel: Self.bytes("a*"), isPattern: true))
    }

    // MARK: ACL DRYRUN

    static let dryRunUser = user(
        "reset", "on", "nopass", "~k*", "%R~r*", "%W~w*", "&ch*", "+get", "+set", "+publish", "+subscribe",
        "+psubscribe", "+select|0", "+config|get", "+auth", "+client")

    /// The request, its keys as COMMAND GETKEYSANDFLAGS reports them (R: access; W: insert, delete, update), and
    /// Redis's DRYRUN reply.
    static let dryRuns: [(request: String, keys: [Int: String], reply: String)] = [
        ("get k1", [1: "R"], "+OK\r\n"),
        ("get x", [1: "R"], "$50\r\nThis user has no permissions to access the 'x' key\r\n"),
        ("set k1 v", [1: "W"], "+OK\r\n"),
        ("set r1 v", [1: "W"], "$51\r\nThis user has no permissions to access the 'r1' key\r\n"),
        ("get r1", [1: "R"], "+OK\r\n"),
        ("set w1 v", [1: "W"], "+OK\r\n"),
        ("get w1", [1: "R"], "$51\r\nThis user has no permissions to access the 'w1' key\r\n"),
        ("del k", [1: "W"], "$53\r\nThis user has no permissions to run the 'del' command\r\n"),
        ("publish chx m", [:], "+OK\r\n"),
        ("publish other m", [:], "$58\r\nThis user has no permissions to access the 'other' channel\r\n"),
        ("subscribe ch1 other", [:], "$58\r\nThis user has no permissions to access the 'other' channel\r\n"),
        ("psubscribe ch*", [:], "+OK\r\n"),
        ("psubscribe ch1*", [:], "$57\r\nThis user has no permissions to access the 'ch1*' channel\r\n"),
        ("select 0", [:], "+OK\r\n"),
        ("select 1", [:], "$56\r\nThis user has no permissions to run the 'select' command\r\n"),
        ("config get x", [:], "+OK\r\n"),
        ("config set x y", [:], "$60\r\nThis user has no permissions to run the 'config|set' command\r\n"),
        ("auth a b", [:], "+OK\r\n"),
        ("hello", [:], "+OK\r\n"),
        ("nosuch", [:], "-ERR Command 'nosuch' not found\r\n"),
        ("client nosuch", [:], "-ERR Command 'client' not found\r\n"),
        ("GET x", [1: "R"], "$50\r\nThis user has no permissions to access the 'x' key\r\n"),
        ("copy k1 r1", [1: "R", 2: "W"], "$54\r\nThis user has no permissions to run the 'copy' command\r\n"),
    ]

    static func keys(_ keys: [Int: String]) -> [ACLKeyAccess] {
        keys.sorted { $0.key < $1.key }.map { position, flags in
            var permissions: ACLKeyPermissions = []
            if flags.contains("R") { permissions.insert(.read) }
            if flags.contains("W") { permissions.insert(.write) }
            return ACLKeyAccess(position: position, permissions: permissions)
        }
    }

    @Test(arguments: ACLUserTests.dryRuns)
    func dryRunAnswersAsRedis(request: String, keys: [Int: String], reply: String) {
        let arguments = request.split(separator: " ").map { Array($0.utf8) }
        #expect(Self.wire(Self.dryRunUser.dryRun(arguments: arguments, keys: Self.keys(keys))) == reply)
    }

    @Test func theLastDeniedKeyOfTheMostRelevantKindIsReported() {
        func reply(_ user: ACLUser, _ request: String, _ keys: [Int: String]) -> String {
            let arguments = request.split(separator: " ").map { Array($0.utf8) }
            return Self.wire(user.dryRun(arguments: arguments, keys: Self.keys(keys)))
        }
        let twoKeys = Self.user("on", "+mget", "~a", "(+mget ~b)")
        #expect(
            reply(twoKeys, "mget a b", [1: "R", 2: "R"])
                == "$50\r\nThis user has no permissions to access the 'b' key\r\n")
        #expect(
            reply(twoKeys, "mget b a", [1: "R", 2: "R"])
                == "$50\r\nThis user has no permissions to access the 'a' key\r\n")
        #expect(reply(twoKeys, "mget a", [1: "R"]) == "+OK\r\n")
        let mixed = Self.user("on", "+get", "~a", "(+publish &x)", "(+subscribe ~a)")
        #expect(reply(mixed, "get b", [1: "R"]) == "$50\r\nThis user has no permissions to access the 'b' key\r\n")
        #expect(reply(mixed, "publish y m", [:]) == "$54\r\nThis user has no permissions to access the 'y' channel\r\n")
        #expect(
            reply(mixed, "subscribe x y", [:])
                == "$54\r\nThis user has no permissions to access the 'x' channel\r\n")
        #expect(reply(mixed, "set a y", [1: "W"]) == "$53\r\nThis user has no permissions to run the 'set' command\r\n")
    }

    @Test func aDeniedRequestIsAnsweredWithNOPERM() {
        let user = Self.user("on", "nopass", "+get", "+publish", "~a", "&c", "+config|get")
        func error(_ request: String, _ keys: [Int: String]) -> String? {
            let arguments = request.split(separator: " ").map { Array($0.utf8) }
            guard let name = ACLUser.commandName(arguments: arguments) else { return nil }
            return user.denial(arguments: arguments, keys: Self.keys(keys))?.noPermissionError(commandName: name)
        }
        #expect(error("set a b", [1: "W"]) == "NOPERM this user has no permissions to run the 'set' command")
        #expect(error("CONFIG SET a b", [:]) == "NOPERM this user has no permissions to run the 'config|set' command")
        #expect(
            error("get b", [1: "R"])
                == "NOPERM this user has no permissions to access one of the keys used as arguments")
        #expect(
            error("publish d m", [:])
                == "NOPERM this user has no permissions to access one of the channels used as arguments")
        #expect(error("get a", [1: "R"]) == nil)
    }

    @Test func keyAccessFollowsRedisKeySpecFlags() {
        let get = ACLKeyAccess(CommandKeys.KeyReference(position: 1, flags: [.readOnly, .access]))
        #expect(get == ACLKeyAccess(position: 1, permissions: .read))
        let set = ACLKeyAccess(CommandKeys.KeyReference(position: 1, flags: [.overwrite, .update]))
        #expect(set == ACLKeyAccess(position: 1, permissions: .write))
        let getDel = ACLKeyAccess(CommandKeys.KeyReference(position: 1, flags: [.readWrite, .access, .delete]))
        #expect(getDel == ACLKeyAccess(position: 1, permissions: [.read, .write]))
        let exists = ACLKeyAccess(CommandKeys.KeyReference(position: 1, flags: [.readOnly]))
        #expect(exists == ACLKeyAccess(position: 1, permissions: []))
    }

    // MARK: ACL GETUSER

    @Test func getUserRepliesAMapOfFlagsPasswordsPermissionsAndSelectors() {
        let user = Self.user("on", ">p", "~a", "%R~b", "&c", "+get", "(+set ~x &y)", "(%W~z)")
        let digest = "148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940"
        let tail =
            "$9\r\npasswords\r\n*1\r\n$64\r\n\(digest)\r\n$8\r\ncommands\r\n$10\r\n-@all +get\r\n"
            + "$4\r\nkeys\r\n$7\r\n~a %R~b\r\n$8\r\nchannels\r\n$2\r\n&c\r\n$9\r\nselectors\r\n*2\r\n"
        #expect(
            Self.wire(user.getUser()) == "*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n" + tail
                + "*6\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$2\r\n~x\r\n"
                + "$8\r\nchannels\r\n$2\r\n&y\r\n"
                + "*6\r\n$8\r\ncommands\r\n$5\r\n-@all\r\n$4\r\nkeys\r\n$4\r\n%W~z\r\n$8\r\nchannels\r\n$0\r\n\r\n")
        #expect(
            Self.wire(user.getUser(), .resp3) == "%6\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n" + tail
                + "%3\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$2\r\n~x\r\n"
                + "$8\r\nchannels\r\n$2\r\n&y\r\n"
                + "%3\r\n$8\r\ncommands\r\n$5\r\n-@all\r\n$4\r\nkeys\r\n$4\r\n%W~z\r\n$8\r\nchannels\r\n$0\r\n\r\n")
    }

    @Test func getUserOfTheDefaultAndOfAResetUser() {
        #expect(
            Self.wire(ACLUser.defaultUser().getUser(), .resp3)
                == "%6\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n$8\r\ncommands\r\n"
                + "$5\r\n+@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n$2\r\n&*\r\n$9\r\nselectors\r\n*0\r\n")
        #expect(
            Self.wire(Self.user("reset").getUser())
                == "*12\r\n$5\r\nflags\r\n*2\r\n$3\r\noff\r\n$16\r\nsanitize-payload\r\n$9\r\npasswords\r\n*0\r\n"
                + "$8\r\ncommands\r\n$5\r\n-@all\r\n$4\r\nkeys\r\n$0\r\n\r\n$8\r\nchannels\r\n$0\r\n\r\n"
                + "$9\r\nselectors\r\n*0\r\n")
        #expect(
            Self.wire(Self.user("on", "nopass", "skip-sanitize-payload").getUser()).hasPrefix(
                "*12\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$6\r\nnopass\r\n$21\r\nskip-sanitize-payload\r\n"))
    }

    // MARK: Passwords

    @Test func passwordsAuthenticateAnEnabledUser() {
        let user = Self.user("on", ">secret", "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
        #expect(user.accepts(password: Self.bytes("secret")))
        #expect(user.accepts(password: Self.bytes("password")))
        #expect(!user.accepts(password: Self.bytes("other")))
        #expect(!Self.user(">secret").accepts(password: Self.bytes("secret")))
        #expect(Self.user("on", "nopass").accepts(password: Self.bytes("anything")))
        #expect(!Self.user("on").accepts(password: []))
    }

    // MARK: ACL CAT

    @Test func catListsTheCategoriesInRedisOrder() {
        #expect(
            Self.wire(ACLCategories.categories()) == "*21\r\n$8\r\nkeyspace\r\n$4\r\nread\r\n$5\r\nwrite\r\n"
                + "$3\r\nset\r\n$9\r\nsortedset\r\n$4\r\nlist\r\n$4\r\nhash\r\n$6\r\nstring\r\n$6\r\nbitmap\r\n"
                + "$11\r\nhyperloglog\r\n$3\r\ngeo\r\n$6\r\nstream\r\n$6\r\npubsub\r\n$5\r\nadmin\r\n$4\r\nfast\r\n"
                + "$4\r\nslow\r\n$8\r\nblocking\r\n$9\r\ndangerous\r\n$10\r\nconnection\r\n$11\r\ntransaction\r\n"
                + "$9\r\nscripting\r\n")
    }

    @Test func catOfACategoryListsItsCommandsInTableOrder() {
        // Redis lists the same names, in its dictionary's order.
        #expect(
            ACLCategories.commands(in: Self.bytes("transaction"))
                == .array(["discard", "exec", "multi", "unwatch", "watch"].map { .bulk($0) }))
        #expect(
            ACLCategories.commands(in: Self.bytes("HyperLogLog"))
                == .array(["pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"].map { .bulk($0) }))
        let connection =
            "asking auth client|caching client|getname client|getredir client|help client|id client|info "
            + "client|kill client|list client|no-evict client|pause client|reply client|setname client|tracking "
            + "client|trackinginfo client|unblock client|unpause command command|count command|docs command|getkeys "
            + "command|getkeysandflags command|help command|info command|list echo hello ping quit readonly "
            + "readwrite reset select wait"
        #expect(
            ACLCategories.commands(in: Self.bytes("connection"))
                == .array(connection.split(separator: " ").map { .bulk(String($0)) }))
    }

    @Test func catOfAnUnknownCategoryIsAnError() {
        #expect(ACLCategories.commands(in: Self.bytes("nosuch")) == .error("ERR Unknown category 'nosuch'"))
        #expect(ACLCategories.commands(in: Self.bytes("all")) == .error("ERR Unknown category 'all'"))
        #expect(
            ACLCategories.commands(in: Array(repeating: UInt8(ascii: "a"), count: 200))
                == .error("ERR Unknown category '\(String(repeating: "a", count: 128))'"))
    }

    // MARK: The category table

    @Test func everyCommandTheParserServesHasItsCategories() {
        let missing = RedisCommandParser.commandNames.filter { ACLCategories.table[$0] == nil }
        #expect(missing.isEmpty)
    }

    @Test func theTableHoldsRedisCommandsAndSubcommands() {
        #expect(ACLCategories.table.count == 366)
        #expect(ACLCategories.table["get"] == ["read", "string", "fast"])
        #expect(ACLCategories.table["config|get"] == ["admin", "slow", "dangerous"])
        let table = ACLCommandTable.shared
        #expect(table.topLevel.count == 240)
        #expect(table.commands.allSatisfy { $0.parent == nil || table.commands[$0.parent!].isContainer })
    }
}

extension ACLUser {
    /// The root selector's description without keys and channels.
    fileprivate func selectorDescription() -> String {
        String(decoding: root.commandRules(), as: UTF8.self)
    }

    fileprivate static func settingUserOrTrap(rules: [[UInt8]]) -> ACLUser {
        do throws(ACLSetUserError) {
            return try settingUser(nil, name: Array("u".utf8), rules: rules)
        } catch {
            preconditionFailure("test rules are valid: \(error)")
        }
    }
}

extension ACLUserTests {
    @Test func onlyAUserAllowedEverythingSkipsTheChecks() throws {
        let everything = ACLUser.defaultUser()
        #expect(everything.isUnrestricted)
        func user(_ rules: String...) throws -> ACLUser {
            try ACLUser.settingUser(ACLUser.defaultUser(), name: Array("default".utf8), rules: rules.map { Array($0.utf8) })
        }
        #expect(!(try user("-set")).isUnrestricted, "one command taken away")
        #expect(!(try user("resetkeys", "~a*")).isUnrestricted, "a key pattern instead of every key")
        #expect(!(try user("resetchannels")).isUnrestricted, "no channels")
        #expect(try user("-set", "+set").isUnrestricted, "given back")
    }

    @Test func storedRulesRebuildTheSameUser() throws {
        let rules = ["on", ">pw", "~a*", "%R~r*", "&ch", "+@read", "-get", "(+set ~s*)"].map { Array($0.utf8) }
        let user = try ACLUser.settingUser(nil, name: Array("u".utf8), rules: rules)
        let stored = ACLUserRecord.encode(ACLUserRecord.rules(for: user, history: rules))
        #expect(ACLUserRecord.user(named: Array("u".utf8), body: stored) == user,
                "the description, selectors included (split at spaces, joined again), rebuilds the user")
        let plain = try ACLUser.settingUser(nil, name: Array("p".utf8), rules: ["on", "~k*", "+get"].map { Array($0.utf8) })
        let compact = ACLUserRecord.rules(for: plain, history: [])
        #expect(!compact.isEmpty && ACLUserRecord.user(named: Array("p".utf8), body: ACLUserRecord.encode(compact)) == plain,
                "otherwise the user's own description is stored")
        #expect(ACLUserRecord.decode([2, 0, 0, 0, 0]) == nil, "an unknown version is refused")
        #expect(ACLUserRecord.decode(stored.dropLast().map { $0 }) == nil, "a truncated body is refused")
    }
}
