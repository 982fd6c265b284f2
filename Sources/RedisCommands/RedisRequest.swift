import KV
import RESP

/// A parsed client request: what the server must do with it.
public enum RedisRequest: Hashable, Sendable {
    /// Propose a command through Raft; render its answer with the reply shape.
    case write(Command, ReplyShape)
    /// Read (after a linearizable read barrier unless lease reads are on).
    case read(ReadCommand)
    /// Handled by the connection itself (PING, ECHO, HELLO, AUTH, CLIENT, SELECT, COMMAND, INFO …).
    case connection(ConnectionCommand)
    /// Answer immediately without touching the database (argument errors, unknown commands).
    case reply(RESPValue)
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH: the server runs them with the connection's ``TransactionState``.
    case transaction(TransactionCommand)
    /// BLPOP and the other blocking list commands: try the write, then wait for a push and try again.
    case blocking(BlockingCommand)
    /// SUBSCRIBE, PUBLISH, PUBSUB …: the server keeps the subscriptions and reaches every member.
    case pubSub(PubSubCommand)
    /// XREAD … BLOCK: read, then wait for an entry and read again.
    case blockingRead(BlockingStreamRead)
    /// EVAL, EVALSHA, FCALL, SCRIPT, FUNCTION: replicated ones are proposed as a transaction entry of one
    /// command, the others are answered as reads (``ScriptCommand/isReplicated``).
    case script(ScriptCommand)
    /// WAIT, SAVE, MONITOR, SLOWLOG, CLIENT PAUSE …: answered by the listener with the node's state.
    case server(ServerCommand)
    /// ACL …: SETUSER and DELUSER are replicated (a transaction entry of one command), the rest read.
    case acl(ACLCommand)
}

extension RedisRequest {
    /// The command the request proposes through Raft, if any.
    public var proposedCommand: Command? {
        switch self {
        case .write(let command, _): return command
        case .blocking(let blocking): return blocking.attempt
        default: return nil
        }
    }
}

/// How a write command's ``CommandResult`` becomes a RESP reply.
public enum ReplyShape: Hashable, Sendable {
    /// As is: ok → +OK, null → nil, integer, bulk, error.
    case direct
    /// SETNX and MSETNX style: +OK / set → 1, nil / not set → 0.
    case setFlag
    /// `SET … GET`, GETSET: the old value (null when there was none).
    case oldValue
    /// HMSET: +OK whenever the command applied (HSET's count is not shown).
    case okOnSuccess

    /// Renders a state-machine answer.
    public func render(_ result: CommandResult) -> RESPValue {
        if case .error(let error) = result { return .error(error.redisMessage) }
        switch (self, result) {
        case (.setFlag, .ok): return .integer(1)
        case (.setFlag, .null): return .integer(0)
        case (.okOnSuccess, _): return .ok
        default: return RedisRequest.resp(result)
        }
    }
}

extension RedisRequest {
    static func resp(_ result: CommandResult) -> RESPValue {
        switch result {
        case .ok: return .ok
        case .null: return .null
        case .integer(let value): return .integer(value)
        case .bulk(let bytes): return .bulkString(bytes)
        case .array(let items): return .array(items.map(resp))
        case .error(let error): return .error(error.redisMessage)
        case .reply(let value): return value
        }
    }
}

/// Commands the connection answers on its own.
public enum ConnectionCommand: Hashable, Sendable {
    case ping([UInt8]?)
    case echo([UInt8])
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
    case hello(protocolVersion: Int?, auth: Credentials?, clientName: [UInt8]?)
    case auth(Credentials)
    case clientSetName([UInt8])
    case clientGetName
    case clientID
    case clientSetInfo
    /// CLIENT LIST [TYPE type] [ID id …]: every connection of this node (or those named); `nil` for a type
    /// that has none here (master, replica, pubsub).
    case clientList(ids: [Int64]?)
    /// CLIENT INFO: this connection.
    case clientInfo
    /// CLIENT KILL addr (old form: +OK or an error) or CLIENT KILL ID id | ADDR addr … (how many closed).
    case clientKill(ids: [Int64], addresses: [String], oldForm: Bool)
    case select(Int64)
    /// `COMMAND`, `COMMAND COUNT`, `COMMAND LIST`, `COMMAND DOCS [name …]`, `COMMAND INFO [name …]`.
    case command(subcommand: [UInt8]?, names: [[UInt8]] = [])
    /// INFO [section …].
    case info(sections: [[UInt8]])
    case quit
    /// TIME: the node's clock as seconds and microseconds.
    case time
    case config(ConfigCommand)
}

/// A user name and password; the description never shows the password.
public struct Credentials: Hashable, Sendable, CustomStringConvertible {
    public var user: [UInt8]
    public var password: [UInt8]
    /// `AUTH password` (no user name): refused while the default user needs no password, as in Redis.
    public var passwordOnly: Bool

    public init(user: [UInt8], password: [UInt8], passwordOnly: Bool = false) {
        self.user = user
        self.password = password
        self.passwordOnly = passwordOnly
    }

    public var description: String { "Credentials(user: \(String(decoding: user, as: UTF8.self)), password: <redacted>)" }
}
