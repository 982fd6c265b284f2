import KV
import RESP

/// EVAL and friends, SCRIPT, FUNCTION and FCALL.
public enum ScriptCommand: Hashable, Sendable {
    /// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO.
    case run(ScriptCall)
    /// SCRIPT LOAD: compile, store, answer the SHA1.
    case load([UInt8])
    /// SCRIPT EXISTS sha …
    case exists([[UInt8]])
    /// SCRIPT FLUSH [ASYNC|SYNC].
    case flush
    /// SCRIPT KILL, FUNCTION KILL: stop this node's running read-only script.
    case kill
    /// FUNCTION LOAD [REPLACE] code.
    case functionLoad(code: [UInt8], replace: Bool)
    case functionDelete([UInt8])
    case functionFlush
    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
    case functionList(pattern: [UInt8]?, withCode: Bool)
    case functionDump
    case functionRestore(payload: [UInt8], policy: FunctionRestorePolicy)
    case functionStats

    /// Whether the command changes replicated state, so it goes through Raft as its own entry.
    public var isReplicated: Bool {
        switch self {
        case .run(let call): return !call.readOnly
        case .load, .flush, .functionLoad, .functionDelete, .functionFlush, .functionRestore: return true
        case .exists, .kill, .functionList, .functionDump, .functionStats: return false
        }
    }
}

/// FUNCTION RESTORE's policy.
public enum FunctionRestorePolicy: Hashable, Sendable {
    case append, replace, flush
}

/// One script or function call.
public struct ScriptCall: Hashable, Sendable {
    public enum Target: Hashable, Sendable {
        case body([UInt8])
        case sha([UInt8])
        case function([UInt8])
    }

    public var target: Target
    /// EVAL_RO, EVALSHA_RO, FCALL_RO: writes are refused, and the call is served as a read.
    public var readOnly: Bool
    public var keys: [[UInt8]]
    public var arguments: [[UInt8]]
    /// FCALL's error for a bad number of keys, answered once the function is found (Redis looks it up first).
    public var keysError: String?
}

extension RedisCommandParser {
    static let scriptSpecs: [String: Spec] = [
        "eval": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try call(.body(a[a.startIndex]), a, readOnly: false) },
        "eval_ro": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try call(.body(a[a.startIndex]), a, readOnly: true) },
        "evalsha": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            try call(.sha(ScriptDigest.normalized(a[a.startIndex])), a, readOnly: false)
        },
        "evalsha_ro": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            try call(.sha(ScriptDigest.normalized(a[a.startIndex])), a, readOnly: true)
        },
        "fcall": Spec(arity: -3) { _, a, _ in functionCall(a, readOnly: false) },
        "fcall_ro": Spec(arity: -3) { _, a, _ in functionCall(a, readOnly: true) },
        "script": Spec(arity: -2) { _, a, _ in scriptSubcommand(Array(a)) },
        "function": Spec(arity: -2) { _, a, _ in functionSubcommand(Array(a)) },
    ]

    private static func call(_ target: ScriptCall.Target, _ a: ArraySlice<[UInt8]>, readOnly: Bool)
        throws(RedisArgumentError) -> RedisRequest
    {
        let numberOfKeys = try integer(a[a.startIndex + 1])
        let rest = a.dropFirst(2)
        guard numberOfKeys >= 0 else { throw .custom("ERR Number of keys can't be negative") }
        guard numberOfKeys <= rest.count else { throw .custom("ERR Number of keys can't be greater than number of args") }
        let keys = Array(rest.prefix(Int(numberOfKeys)))
        return .script(.run(ScriptCall(target: target, readOnly: readOnly, keys: keys,
                                       arguments: Array(rest.dropFirst(Int(numberOfKeys))))))
    }

    private static func functionCall(_ a: ArraySlice<[UInt8]>, readOnly: Bool) -> RedisRequest {
        do throws(RedisArgumentError) {
            guard RedisNumber.parseInteger(a[a.startIndex + 1]) != nil else {
                throw .custom("ERR Bad number of keys provided")
            }
            return try call(.function(a[a.startIndex]), a, readOnly: readOnly)
        } catch {
            return .script(.run(ScriptCall(target: .function(a[a.startIndex]), readOnly: readOnly, keys: [], arguments: [],
                                           keysError: error.message(command: "fcall"))))
        }
    }

    private static func scriptSubcommand(_ a: [[UInt8]]) -> RedisRequest {
        let subcommand = String(decoding: a[0], as: UTF8.self)
        let rest = Array(a.dropFirst())
        func arity() -> RedisRequest {
            .reply(.error("ERR wrong number of arguments for 'script|\(subcommand.lowercased())' command"))
        }
        switch subcommand.lowercased() {
        case "load":
            guard rest.count == 1 else { return arity() }
            return .script(.load(rest[0]))
        case "exists":
            guard !rest.isEmpty else { return arity() }
            return .script(.exists(rest.map(ScriptDigest.normalized)))
        case "flush":
            if let mode = rest.first, rest.count > 1 || !["sync", "async"].contains(String(decoding: mode, as: UTF8.self).lowercased()) {
                return .reply(.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option"))
            }
            return .script(.flush)
        case "kill":
            guard rest.isEmpty else { return arity() }
            return .script(.kill)
        case "debug":
            guard rest.count == 1 else { return arity() }
            switch String(decoding: rest[0], as: UTF8.self).lowercased() {
            case "no": return .reply(.ok)
            case "yes", "sync": return .reply(.error("ERR SCRIPT DEBUG is not supported: scripts run inside replicated entries"))
            default: return .reply(.error("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
            }
        case "help":
            return .reply(.array(scriptHelp.map { .simpleString($0) }))
        default:
            return .reply(.error("ERR unknown subcommand '\(subcommand)'. Try SCRIPT HELP."))
        }
    }

    private static func functionSubcommand(_ a: [[UInt8]]) -> RedisRequest {
        let subcommand = String(decoding: a[0], as: UTF8.self)
        let rest = Array(a.dropFirst())
        let words = rest.map { String(decoding: $0, as: UTF8.self).lowercased() }
        func arity() -> RedisRequest {
            .reply(.error("ERR wrong number of arguments for 'function|\(subcommand.lowercased())' command"))
        }
        func unknownOrArity() -> RedisRequest {
            .reply(.error("ERR unknown subcommand or wrong number of arguments for '\(subcommand)'. Try FUNCTION HELP."))
        }
        switch subcommand.lowercased() {
        case "load":
            guard let code = rest.last else { return arity() }
            // Every word before the code is an option (REPLACE, which may repeat).
            if let unknown = words.dropLast().firstIndex(where: { $0 != "replace" }) {
                return .reply(.error("ERR Unknown option given: \(String(decoding: rest[unknown], as: UTF8.self))"))
            }
            return .script(.functionLoad(code: code, replace: rest.count > 1))
        case "delete":
            guard rest.count == 1 else { return arity() }
            return .script(.functionDelete(rest[0]))
        case "flush":
            guard rest.count <= 1 else { return unknownOrArity() }
            if let mode = words.first, mode != "sync", mode != "async" {
                return .reply(.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"))
            }
            return .script(.functionFlush)
        case "kill":
            guard rest.isEmpty else { return arity() }
            return .script(.kill)
        case "stats":
            guard rest.isEmpty else { return arity() }
            return .script(.functionStats)
        case "dump":
            guard rest.isEmpty else { return arity() }
            return .script(.functionDump)
        case "restore":
            guard !rest.isEmpty else { return arity() }
            guard rest.count <= 2 else { return unknownOrArity() }
            var policy = FunctionRestorePolicy.append
            if rest.count == 2 {
                switch words[1] {
                case "append": policy = .append
                case "replace": policy = .replace
                case "flush": policy = .flush
                default: return .reply(.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."))
                }
            }
            return .script(.functionRestore(payload: rest[0], policy: policy))
        case "list":
            var pattern: [UInt8]?
            var withCode = false
            var index = 0
            while index < rest.count {
                switch words[index] {
                case "withcode":
                    guard !withCode else { return .reply(.error("ERR Unknown argument WITHCODE")) }
                    withCode = true
                    index += 1
                case "libraryname":
                    guard index + 1 < rest.count else {
                        return .reply(.error("ERR library name argument was not given"))
                    }
                    guard pattern == nil else {
                        return .reply(.error("ERR Unknown argument \(String(decoding: rest[index], as: UTF8.self))"))
                    }
                    pattern = rest[index + 1]
                    index += 2
                default:
                    return .reply(.error("ERR Unknown argument \(String(decoding: rest[index], as: UTF8.self))"))
                }
            }
            return .script(.functionList(pattern: pattern, withCode: withCode))
        case "help":
            return .reply(.array(functionHelp.map { .simpleString($0) }))
        default:
            return .reply(.error("ERR unknown subcommand '\(subcommand)'. Try FUNCTION HELP."))
        }
    }

    static let scriptHelp = [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ]

    static let functionHelp = [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ]
}
