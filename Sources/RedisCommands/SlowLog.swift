import KV
import RESP
import Synchronization

// Node-local state: each elastickv node keeps its own slow log, as each Redis server does. Nothing here is
// replicated through Raft, forwarded to the leader or persisted: a command is logged by the node whose Redis
// listener answered it (with the duration that listener measured), SLOWLOG GET / LEN / RESET read or clear
// only that node's entries, and ids start again from 0 when the node restarts. `slowlog-log-slower-than` and
// `slowlog-max-len` are per node as well: CONFIG SET changes them on the node it is sent to.

/// The commands of this node that ran for at least `slowlog-log-slower-than`, as Redis 7.0.15 logs them. Thread-safe.
///
/// At most `slowlog-max-len` entries are kept, the newest first in `SLOWLOG GET`; each has an id that only ever
/// grows (`SLOWLOG RESET` keeps counting), the wall-clock second it was logged, the duration in microseconds,
/// the arguments after redaction (``redacted(_:)``) and trimming (``trimmed(_:)``), the client's address and name.
/// Lowering `slowlog-max-len` trims the log at the next logged command, not at once, as in Redis.
public final class SlowLog: Sendable {
    /// One logged command.
    public struct Entry: Hashable, Sendable {
        public let id: Int64
        /// When the command was logged (after it ran); `SLOWLOG GET` shows the whole seconds.
        public let unixMicros: Int64
        public let durationMicroseconds: Int64
        /// The arguments as logged: redacted, then trimmed.
        public let arguments: [[UInt8]]
        /// `ip:port` of the client.
        public let clientAddress: String
        /// `CLIENT SETNAME`'s name; empty when unnamed.
        public let clientName: String

        /// The six-element array `SLOWLOG GET` shows.
        public var reply: RESPValue {
            .array([
                .integer(id), .integer(unixMicros / 1_000_000), .integer(durationMicroseconds),
                .array(arguments.map { .bulkString($0) }), .bulk(clientAddress), .bulk(clientName),
            ])
        }
    }

    /// Redis's default `slowlog-log-slower-than`: 10 ms.
    public static let defaultThresholdMicroseconds: Int64 = 10_000
    /// Redis's default `slowlog-max-len`.
    public static let defaultMaxLength: Int64 = 128
    /// How many arguments an entry keeps (`SLOWLOG_ENTRY_MAX_ARGC`); the last kept one tells how many were left out.
    public static let maxLoggedArguments = 32
    /// How many bytes of each argument an entry keeps (`SLOWLOG_ENTRY_MAX_STRING`).
    public static let maxLoggedArgumentBytes = 128
    /// How many entries `SLOWLOG GET` shows without a count.
    public static let defaultGetCount: Int64 = 10
    /// What a secret argument is replaced with (Redis's `shared.redacted`).
    public static let redactedArgument = Array("(redacted)".utf8)

    /// `CONFIG SET slowlog-log-slower-than`: microseconds; -1 turns logging off, 0 logs every command.
    public static let thresholdParameter = IntegerConfigParameter(
        name: "slowlog-log-slower-than", minimum: -1, maximum: .max)
    /// `CONFIG SET slowlog-max-len`: 0 keeps nothing (ids still advance).
    public static let maxLengthParameter = IntegerConfigParameter(name: "slowlog-max-len", minimum: 0, maximum: .max)

    private struct State {
        /// Oldest first.
        var entries: [Entry] = []
        var nextID: Int64 = 0
        var thresholdMicroseconds: Int64
        var maxLength: Int64
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - thresholdMicroseconds: `slowlog-log-slower-than`, in ``thresholdParameter``'s range.
    ///   - maxLength: `slowlog-max-len`, in ``maxLengthParameter``'s range.
    public init(thresholdMicroseconds: Int64 = SlowLog.defaultThresholdMicroseconds,
                maxLength: Int64 = SlowLog.defaultMaxLength) {
        precondition(Self.thresholdParameter.contains(thresholdMicroseconds),
                     "slowlog-log-slower-than is checked with SlowLog.thresholdParameter before it is set")
        precondition(Self.maxLengthParameter.contains(maxLength),
                     "slowlog-max-len is checked with SlowLog.maxLengthParameter before it is set")
        state = Mutex(State(thresholdMicroseconds: thresholdMicroseconds, maxLength: maxLength))
    }

    /// `slowlog-log-slower-than` in microseconds: commands at least this slow are logged; -1 logs none.
    ///
    /// Set it only with a value ``thresholdParameter`` accepted (`parse(_:)` gives the client's error otherwise).
    public var thresholdMicroseconds: Int64 {
        get { state.withLock { $0.thresholdMicroseconds } }
        set {
            precondition(Self.thresholdParameter.contains(newValue),
                         "slowlog-log-slower-than is checked with SlowLog.thresholdParameter before it is set")
            state.withLock { $0.thresholdMicroseconds = newValue }
        }
    }

    /// `slowlog-max-len`: how many entries are kept.
    ///
    /// Set it only with a value ``maxLengthParameter`` accepted.
    public var maxLength: Int64 {
        get { state.withLock { $0.maxLength } }
        set {
            precondition(Self.maxLengthParameter.contains(newValue),
                         "slowlog-max-len is checked with SlowLog.maxLengthParameter before it is set")
            state.withLock { $0.maxLength = newValue }
        }
    }

    /// How many entries are kept now (`SLOWLOG LEN`).
    public var count: Int { state.withLock { $0.entries.count } }

    /// The newest `limit` entries, newest first; all of them when `limit` is nil.
    public func latest(_ limit: Int? = nil) -> [Entry] {
        state.withLock { state in
            let kept = min(max(limit ?? state.entries.count, 0), state.entries.count)
            return Array(state.entries.suffix(kept).reversed())
        }
    }

    /// Logs a command that ran, if it is one Redis logs and it took at least `slowlog-log-slower-than`.
    ///
    /// Call it after every command the node ran, whatever its reply (errors included), with the arguments as the
    /// client sent them. Commands refused before running (unknown command, wrong arity, NOAUTH, queued by
    /// MULTI) are not logged, as in Redis; commands run by EXEC are logged one by one and EXEC itself is not
    /// (see ``isLogged(command:)``). Secrets are redacted here, so pass the arguments unchanged.
    /// - Parameters:
    ///   - arguments: The command name and its arguments.
    ///   - duration: How long the command ran; negative durations count as zero.
    ///   - unixMicros: The wall clock when it finished.
    ///   - clientAddress: `ip:port` of the client.
    ///   - clientName: The connection's `CLIENT SETNAME`, empty when unnamed.
    public func record(arguments: [[UInt8]], duration: Duration, unixMicros: Int64, clientAddress: String,
                       clientName: String) {
        guard let command = arguments.first, Self.isLogged(command: command) else { return }
        let micros = Self.microseconds(duration)
        let threshold = state.withLock { $0.thresholdMicroseconds }
        guard threshold >= 0, micros >= threshold else { return }
        let logged = Self.trimmed(Self.redacted(arguments))
        state.withLock { state in
            state.entries.append(Entry(id: state.nextID, unixMicros: unixMicros, durationMicroseconds: micros,
                                       arguments: logged, clientAddress: clientAddress, clientName: clientName))
            state.nextID += 1
            let excess = state.entries.count - Int(min(state.maxLength, Int64(state.entries.count)))
            if excess > 0 { state.entries.removeFirst(excess) }
        }
    }

    /// Whether Redis 7.0.15 logs a command at all: every command but EXEC (the only one flagged `skip_slowlog`;
    /// the commands it runs are logged one by one). AUTH, HELLO and the like are logged with their secrets
    /// redacted.
    public static func isLogged(command: [UInt8]) -> Bool {
        keyword(command) != "exec"
    }

    /// A duration in whole microseconds, as Redis measures one (`ustime()` differences); 0 for a negative
    /// duration, `Int64.max` for one too long to count.
    public static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (total, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        return overflow || carry ? .max : total
    }
}

extension SlowLog {
    /// The arguments with every secret replaced by `(redacted)`, where Redis 7.0.15 redacts them.
    ///
    /// - `AUTH [user] password`: every argument (not with more than two arguments: that is a syntax error).
    /// - `HELLO protover [AUTH user password] [SETNAME name]`: AUTH's user and password, when the version is
    ///   2 or 3 and up to the first option HELLO refuses.
    /// - `MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 user password] [KEYS …]`:
    ///   AUTH's password and AUTH2's user and password, up to KEYS or the first option MIGRATE refuses.
    /// - `CONFIG SET name value …` with an even number of arguments: the values of `requirepass`, `masterauth`
    ///   and `masteruser` (Redis 7.0 does not redact the TLS key passwords).
    /// - `ACL SETUSER user rule …`: everything after SETUSER, the user name included.
    ///
    /// Redis redacts while it runs the command, so it stops at a failed HELLO AUTH and shows a later AUTH pair;
    /// this redacts every AUTH pair of a well-formed HELLO, never showing more than Redis does.
    public static func redacted(_ arguments: [[UInt8]]) -> [[UInt8]] {
        guard let command = arguments.first else { return arguments }
        let secrets: [Int]
        switch keyword(command) {
        case "auth": secrets = arguments.count <= 3 ? Array(1..<arguments.count) : []
        case "hello": secrets = helloSecrets(arguments)
        case "migrate": secrets = migrateSecrets(arguments)
        case "config": secrets = configSetSecrets(arguments)
        case "acl":
            secrets = arguments.count >= 3 && keyword(arguments[1]) == "setuser" ? Array(2..<arguments.count) : []
        default: secrets = []
        }
        guard !secrets.isEmpty else { return arguments }
        var result = arguments
        for index in secrets { result[index] = redactedArgument }
        return result
    }

    private static func helloSecrets(_ arguments: [[UInt8]]) -> [Int] {
        guard arguments.count >= 2, let version = RedisNumber.parseInteger(arguments[1]),
              version == 2 || version == 3 else { return [] }
        var secrets: [Int] = []
        var index = 2
        while index < arguments.count {
            let following = arguments.count - 1 - index
            switch keyword(arguments[index]) {
            case "auth" where following >= 2:
                secrets += [index + 1, index + 2]
                index += 3
            case "setname" where following >= 1:
                index += 2
            default:
                return secrets
            }
        }
        return secrets
    }

    private static func migrateSecrets(_ arguments: [[UInt8]]) -> [Int] {
        var secrets: [Int] = []
        var index = 6
        while index < arguments.count {
            let following = arguments.count - 1 - index
            switch keyword(arguments[index]) {
            case "copy", "replace":
                index += 1
            case "auth" where following >= 1:
                secrets.append(index + 1)
                index += 2
            case "auth2" where following >= 2:
                secrets += [index + 1, index + 2]
                index += 3
            default:
                // KEYS: the rest are key names; anything else is a syntax error that ends the command.
                return secrets
            }
        }
        return secrets
    }

    private static let sensitiveConfigNames: Set<String> = ["requirepass", "masterauth", "masteruser"]

    private static func configSetSecrets(_ arguments: [[UInt8]]) -> [Int] {
        guard arguments.count >= 4, arguments.count % 2 == 0, keyword(arguments[1]) == "set" else { return [] }
        return stride(from: 2, to: arguments.count, by: 2).compactMap { index in
            sensitiveConfigNames.contains(keyword(arguments[index])) ? index + 1 : nil
        }
    }

    /// The arguments as an entry keeps them: at most ``maxLoggedArguments``, the last kept one replaced by
    /// `... (N more arguments)`, and each longer than ``maxLoggedArgumentBytes`` cut there and followed by
    /// `... (N more bytes)`.
    public static func trimmed(_ arguments: [[UInt8]]) -> [[UInt8]] {
        let kept = min(arguments.count, maxLoggedArguments)
        var result: [[UInt8]] = []
        result.reserveCapacity(kept)
        for index in 0..<kept {
            let argument = arguments[index]
            if kept < arguments.count && index == kept - 1 {
                result.append(Array("... (\(arguments.count - kept + 1) more arguments)".utf8))
            } else if argument.count > maxLoggedArgumentBytes {
                let omitted = argument.count - maxLoggedArgumentBytes
                let note = Array("... (\(omitted) more bytes)".utf8)
                result.append(Array(argument.prefix(maxLoggedArgumentBytes)) + note)
            } else {
                result.append(argument)
            }
        }
        return result
    }

    /// A command or option word lower-cased in ASCII only, as Redis compares them (`strcasecmp`); an argument
    /// longer than any keyword comes back empty, so a large value is never copied.
    static func keyword(_ bytes: [UInt8]) -> String {
        guard bytes.count <= 16 else { return "" }
        return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

extension SlowLog {
    /// The reply to a whole `SLOWLOG` command (`arguments[0]` is `SLOWLOG`): GET [count], LEN, RESET, HELP, with
    /// Redis 7.0.15's errors.
    public func answer(_ arguments: [[UInt8]]) -> RESPValue {
        guard arguments.count >= 2 else { return .error("ERR wrong number of arguments for 'slowlog' command") }
        let subcommand = arguments[1]
        let name = Self.keyword(subcommand)
        let extra = arguments.count - 2
        switch name {
        case "get":
            guard extra <= 1 else {
                return .error("ERR unknown subcommand or wrong number of arguments for '\(Self.quoted(subcommand))'. "
                    + "Try SLOWLOG HELP.")
            }
            var count = Self.defaultGetCount
            if extra == 1 {
                guard let parsed = RedisNumber.parseInteger(arguments[2]), parsed >= -1 else {
                    return .error("ERR count should be greater than or equal to -1")
                }
                count = parsed
            }
            let limit = count == -1 ? nil : Int(min(count, Int64(Int.max)))
            return .array(latest(limit).map(\.reply))
        case "len", "reset", "help":
            guard extra == 0 else { return .error("ERR wrong number of arguments for 'slowlog|\(name)' command") }
            switch name {
            case "len": return .integer(Int64(count))
            case "reset":
                state.withLock { $0.entries.removeAll() }
                return .ok
            default: return .array(Self.help.map { .simpleString($0) })
            }
        default:
            return .error("ERR unknown subcommand '\(Self.quoted(subcommand))'. Try SLOWLOG HELP.")
        }
    }

    /// A client's word as Redis quotes it in an error (`%.128s`: up to a NUL byte, at most 128 bytes).
    static func quoted(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }.prefix(128), as: UTF8.self)
    }

    /// `SLOWLOG HELP`, line for line as Redis 7.0.15 prints it.
    static let help = [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ]
}
