import KV
import RESP
#if canImport(Glibc)
import Glibc
#endif

/// The per-connection state of a Redis client and the commands it answers without the database.
///
/// Pure: the server owns one per connection, asks ``admit(_:)`` before executing any request, and routes
/// ``ConnectionCommand``s to ``respond(to:info:)``.
public struct ConnectionSession: Sendable {
    /// The version `HELLO` reports; clients use it to pick features.
    public static let reportedRedisVersion = "7.2.0"

    public let clientID: Int64
    /// When set, every command but AUTH, HELLO … AUTH and QUIT needs a successful AUTH first.
    public let password: [UInt8]?
    public private(set) var protocolVersion: RESPValue.ProtocolVersion = .resp2
    public private(set) var clientName: [UInt8]?
    /// The database SELECT chose (0…15).
    public var database: UInt8 = 0
    public private(set) var isAuthenticated: Bool
    /// The ACL user the connection runs as (`default` until an AUTH names another).
    public private(set) var userName: [UInt8] = Array("default".utf8)
    /// The ACL users, when the server has them: AUTH checks against them instead of ``password``.
    public var users: (@Sendable ([UInt8]) -> ACLUser?)?
    /// MULTI's queue and WATCH's keys.
    public var transaction = TransactionState()
    /// SUBSCRIBE's channels, PSUBSCRIBE's patterns, SSUBSCRIBE's shard channels.
    public var subscriptions = Subscriptions()

    /// CLIENT REPLY ON or OFF.
    public var replies: ServerCommand.ClientReplyMode = .on
    /// How many more replies CLIENT REPLY SKIP drops (its own and the next command's).
    public var skippedReplies = 0
    /// MONITOR was sent (until RESET or the connection closes).
    public var isMonitoring = false

    /// What CONFIG GET reports.
    public let config: ServerConfig
    /// The wall clock in microseconds since the Unix epoch (TIME).
    let clockMicros: @Sendable () -> UInt64

    public init(clientID: Int64, password: [UInt8]?, config: ServerConfig = ServerConfig(maxValueBytes: 64 << 20),
                clockMicros: @escaping @Sendable () -> UInt64 = ConnectionSession.wallClockMicros) {
        self.clientID = clientID
        self.password = password
        self.config = config
        self.clockMicros = clockMicros
        isAuthenticated = password == nil
    }

    @Sendable public static func wallClockMicros() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec / 1000)
    }

    /// Whether the reply just produced goes to the client (CLIENT REPLY OFF and SKIP drop replies).
    public mutating func sendsReply() -> Bool {
        if skippedReplies > 0 {
            skippedReplies -= 1
            return false
        }
        return replies == .on
    }

    /// RESET: the connection as it was after connecting — no transaction, watches or subscriptions, not
    /// monitoring, database 0, RESP2, no name, replies on, and not authenticated when a password is set. The
    /// server drops the connection's subscriptions and monitor registration itself.
    public mutating func reset() {
        transaction = TransactionState()
        subscriptions = Subscriptions()
        database = 0
        protocolVersion = .resp2
        clientName = nil
        isAuthenticated = password == nil
        startAsDefault()
        replies = .on
        skippedReplies = 0
        isMonitoring = false
    }

    /// The refusal for a request on a connection that has not authenticated yet, if any. As in Redis, an
    /// unknown command and a wrong number of arguments are reported before authentication is asked for, and
    /// AUTH, HELLO and QUIT answer their own errors.
    public func admit(_ request: RedisRequest, command name: [UInt8]? = nil, subcommand: [UInt8]? = nil) -> RESPValue? {
        if isAuthenticated, subscriptions.count > 0, protocolVersion == .resp2, let name {
            // Redis's subscribed mode: a RESP2 connection with subscriptions only manages them (a command that
            // is unknown or of the wrong arity is answered as such first).
            let lowered = String(decoding: name, as: UTF8.self).lowercased()
            if case .reply(.error(let message)) = request, Self.isLookupOrArityError(message) { return nil }
            guard RedisCommandParser.subscribedModeCommands.contains(lowered) else {
                var fullName = lowered
                if RedisCommandParser.containerCommands.contains(lowered), let subcommand {
                    fullName += "|" + String(decoding: subcommand, as: UTF8.self).lowercased()
                }
                return .error("ERR Can't execute '\(fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                    + "RESET are allowed in this context")
            }
            return nil
        }
        guard !isAuthenticated else { return nil }
        switch request {
        case .connection(.auth), .connection(.hello), .connection(.quit): return nil
        case .reply(.error(let message)) where Self.isLookupOrArityError(message):
            return nil
        case .reply(.error) where name.map({ ["auth", "hello", "quit"].contains(String(decoding: $0, as: UTF8.self).lowercased()) }) == true:
            return nil
        default: return .error("NOAUTH Authentication required.")
        }
    }

    /// Answers a connection command; `close` asks the server to close the connection after replying.
    public mutating func respond(to command: ConnectionCommand, info: () -> String) -> (reply: RESPValue, close: Bool) {
        switch command {
        case .ping(let message):
            if subscriptions.count > 0, protocolVersion == .resp2 {
                // In subscribed mode a RESP2 PING answers like a message: ["pong", message or ""].
                return (.array([.bulk("pong"), .bulkString(message ?? [])]), false)
            }
            return (message.map(RESPValue.bulkString) ?? .simpleString("PONG"), false)
        case .echo(let message):
            return (.bulkString(message), false)
        case .hello(let version, let auth, let name):
            return (hello(version: version, auth: auth, name: name), false)
        case .auth(let credentials):
            return (authenticate(credentials), false)
        case .clientSetName(let name):
            clientName = name.isEmpty ? nil : name
            return (.ok, false)
        case .clientGetName:
            return (clientName.map(RESPValue.bulkString) ?? .null, false)
        case .clientID:
            return (.integer(clientID), false)
        case .clientSetInfo:
            return (.ok, false)
        case .clientList, .clientInfo, .clientKill:
            // They need every connection of the listener: the server answers them.
            return (.error("ERR CLIENT LIST, INFO and KILL are answered by the listener"), false)
        case .select(let index):
            guard (0..<Int64(RedisKeyspace.databaseCount)).contains(index) else {
                return (.error("ERR DB index is out of range"), false)
            }
            database = UInt8(index)
            return (.ok, false)
        case .command(let subcommand, let names):
            return (CommandIntrospection.reply(subcommand: subcommand, names: names), false)
        case .info(let sections):
            return (.bulkString(Array(InfoSections.select(sections, from: info()).utf8)), false)
        case .quit:
            return (.ok, true)
        case .time:
            let micros = clockMicros()
            return (.array([.bulk(String(micros / 1_000_000)), .bulk(String(micros % 1_000_000))]), false)
        case .config(let subcommand):
            return (config.answer(subcommand), false)
        }
    }

    private mutating func hello(version: Int?, auth: Credentials?, name: [UInt8]?) -> RESPValue {
        if let version, version != 2 && version != 3 {
            return .error("NOPROTO unsupported protocol version")
        }
        if let auth {
            let reply = authenticate(auth)
            if case .error = reply { return reply }
        }
        guard isAuthenticated else {
            return .error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let version { protocolVersion = version == 3 ? .resp3 : .resp2 }
        if let name { clientName = name }
        return .map([
            .init(.bulk("server"), .bulk("redis")),
            .init(.bulk("version"), .bulk(Self.reportedRedisVersion)),
            .init(.bulk("proto"), .integer(Int64(protocolVersion.rawValue))),
            .init(.bulk("id"), .integer(clientID)),
            .init(.bulk("mode"), .bulk("standalone")),
            .init(.bulk("role"), .bulk("master")),
            .init(.bulk("modules"), .array([])),
        ])
    }

    /// Whether a new (or RESET) connection starts authenticated as `default`: its user is on and `nopass`.
    public mutating func startAsDefault() {
        userName = Array("default".utf8)
        if let user = users?(userName) { isAuthenticated = user.isEnabled && user.acceptsAnyPassword }
    }

    private mutating func authenticate(_ credentials: Credentials) -> RESPValue {
        let wrong = RESPValue.error("WRONGPASS invalid username-password pair or user is disabled.")
        if let users {
            guard let user = users(credentials.user) else { return wrong }
            if user.acceptsAnyPassword, credentials.passwordOnly {
                return .error("ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?")
            }
            guard user.accepts(password: credentials.password) else { return wrong }
            isAuthenticated = true
            userName = credentials.user
            return .ok
        }
        guard let password else {
            return .error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        }
        let userMatches = credentials.user == Array("default".utf8)
        guard userMatches, Self.constantTimeEquals(credentials.password, password) else {
            return .error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        isAuthenticated = true
        return .ok
    }

    /// An unknown command or a wrong number of arguments: what Redis reports before anything else (before
    /// asking for authentication, before queueing in MULTI).
    public static func isLookupOrArityError(_ message: String) -> Bool {
        message.hasPrefix("ERR unknown command") || message.hasPrefix("ERR wrong number of arguments")
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// Answers `COMMAND`, `COMMAND COUNT`, `COMMAND LIST`, `COMMAND INFO`, `COMMAND DOCS`, `COMMAND GETKEYS` and
/// `COMMAND GETKEYSANDFLAGS` well enough for redis-cli and client libraries: every supported command, its arity,
/// write flag and legacy key positions, for DOCS its group, and for GETKEYS a request's keys exactly as Redis 7.0
/// finds them (cluster clients route by them), from ``CommandKeys``.
enum CommandIntrospection {
    static func reply(subcommand: [UInt8]?, names wanted: [[UInt8]] = []) -> RESPValue {
        let names = RedisCommandParser.commandNames
        let asked = wanted.map { String(decoding: $0, as: UTF8.self).lowercased() }
        switch subcommand.map({ String(decoding: $0, as: UTF8.self).uppercased() }) {
        case nil:
            return .array(names.map(describe))
        case "INFO"?:
            guard !asked.isEmpty else { return .array(names.map(describe)) }
            return .array(asked.map { RedisCommandParser.commandNameSet.contains($0) ? describe($0) : .null })
        case "COUNT"?:
            return .integer(Int64(names.count))
        case "LIST"?:
            return .array(names.map { .bulk($0) })
        case "GETKEYS"?:
            return keysReply(wanted, withFlags: false)
        case "GETKEYSANDFLAGS"?:
            return keysReply(wanted, withFlags: true)
        case "DOCS"?:
            let documented = asked.isEmpty ? names : asked.filter(RedisCommandParser.commandNameSet.contains)
            return .map(documented.map { name in
                .init(.bulk(name), .map([.init(.bulk("group"), .bulk(RedisCommandParser.group(of: name)))]))
            })
        default:
            return .error("ERR unknown subcommand '\(String(decoding: subcommand ?? [], as: UTF8.self))'. Try COMMAND HELP.")
        }
    }

    private static func describe(_ name: String) -> RESPValue {
        let arity = RedisCommandParser.table[name]?.arity ?? 0
        let isWrite = RedisCommandParser.writeCommandNames.contains(name)
        let keys = CommandKeys.table[name] ?? .keyless
        return .array([
            .bulk(name), .integer(Int64(arity)),
            .array([.simpleString(isWrite ? "write" : "readonly")]),
            .integer(Int64(keys.firstKey)), .integer(Int64(keys.lastKey)), .integer(Int64(keys.keyStep)),
        ])
    }

    /// `COMMAND GETKEYS` / `GETKEYSANDFLAGS`: the keys of the request `arguments` (its command name first),
    /// each with its flags (a set of simple strings, as Redis sends them) when `withFlags`.
    private static func keysReply(_ arguments: [[UInt8]], withFlags: Bool) -> RESPValue {
        // Redis's arity for `command|getkeys`: at least the command and one argument.
        guard arguments.count >= 2 else {
            let subcommand = withFlags ? "getkeysandflags" : "getkeys"
            return .error("ERR wrong number of arguments for 'command|\(subcommand)' command")
        }
        switch CommandKeys.references(arguments) {
        case .failure(let error):
            return .error(error.message)
        case .success(let references):
            return .array(references.map { reference -> RESPValue in
                let key = RESPValue.bulkString(arguments[reference.position])
                guard withFlags else { return key }
                return .array([key, .set(reference.flags.names.map(RESPValue.simpleString))])
            })
        }
    }
}

extension RedisCommandParser {
    /// The commands that go through Raft.
    static let writeCommandNames: Set<String> = [
        "set", "setnx", "setex", "psetex", "getset", "getdel", "getex", "mset", "msetnx", "incr", "decr",
        "incrby", "decrby", "incrbyfloat", "append", "setrange", "del", "unlink", "expire", "pexpire",
        "expireat", "pexpireat", "persist", "hset", "hdel", "hincrby", "hmset", "hsetnx", "hincrbyfloat", "rename",
        "renamenx", "copy", "setbit", "bitop", "flushall", "flushdb", "lpush", "rpush", "lpushx", "rpushx", "lpop",
        "rpop", "lset", "linsert", "lrem", "ltrim", "lmove", "rpoplpush", "lmpop", "blpop", "brpop", "blmove",
        "brpoplpush", "blmpop", "xadd", "xdel", "xtrim", "xgroup", "xreadgroup", "xack", "xsetid", "xclaim", "xautoclaim", "sadd", "srem", "spop", "smove", "sinterstore", "sunionstore", "sdiffstore", "move",
        "swapdb", "pfadd", "pfmerge", "bitfield", "zadd", "zincrby", "zrem", "zrangestore", "zremrangebyrank",
        "zremrangebyscore", "zremrangebylex", "zpopmin", "zpopmax", "zmpop", "bzpopmin", "bzpopmax", "bzmpop",
        "zunionstore", "zinterstore", "zdiffstore",
    ]
}
