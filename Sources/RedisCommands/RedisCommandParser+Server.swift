import KV
import RESP

extension RedisCommandParser {
    static let serverSpecs: [String: Spec] = [
        "wait": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            let replicas = try integer(a[a.startIndex])
            let timeout = try nonNegativeTimeout(a[a.startIndex + 1])
            return .server(.wait(replicas: replicas, timeoutMillis: timeout))
        },
        "save": Spec(arity: 1) { _, _, _ in .server(.save(background: false)) },
        "bgsave": Spec(arity: -1) { _, a, _ throws(RedisArgumentError) in
            guard a.isEmpty || (a.count == 1 && keyword(a[a.startIndex]) == "SCHEDULE") else { throw .syntax }
            return .server(.save(background: true))
        },
        "lastsave": Spec(arity: 1) { _, _, _ in .server(.lastSave) },
        "reset": Spec(arity: 1) { _, _, _ in .server(.reset) },
        "monitor": Spec(arity: 1) { _, _, _ in .server(.monitor) },
        "slowlog": Spec(arity: -2) { _, a, _ in .server(.slowLog(Array(a))) },
        "latency": Spec(arity: -2) { _, a, _ in .server(.latency(Array(a))) },
        "memory": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseMemory(a) },
        "debug": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            let sub = keyword(a[a.startIndex])
            switch sub {
            case "SLEEP" where a.count == 2:
                // Redis reads the seconds with strtod and sleeps 0 for anything it cannot read.
                let seconds = RedisNumber.parseFloat(a[a.startIndex + 1]).map { max(0, min($0, 3600)) } ?? 0
                return .server(.debugSleep(.microseconds(Int64(seconds * 1_000_000))))
            case "HELP" where a.count == 1:
                return .reply(.array(debugHelp.map { .simpleString($0) }))
            default:
                throw .custom("ERR unknown subcommand or wrong number of arguments for "
                    + "'\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try DEBUG HELP.")
            }
        },
    ]

    /// A timeout in milliseconds (WAIT, CLIENT PAUSE): an integer, not negative.
    static func nonNegativeTimeout(_ bytes: [UInt8]) throws(RedisArgumentError) -> Int64 {
        guard let value = RedisNumber.parseInteger(bytes) else {
            throw .custom("ERR timeout is not an integer or out of range")
        }
        guard value >= 0 else { throw .custom("ERR timeout is negative") }
        return value
    }

    /// `MEMORY USAGE key [SAMPLES count] | DOCTOR | STATS | MALLOC-STATS | PURGE | HELP`.
    static func parseMemory(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let sub = keyword(a[a.startIndex])
        let rest = a.dropFirst()
        func none(_ command: ServerCommand.MemorySubcommand) throws(RedisArgumentError) -> RedisRequest {
            guard rest.isEmpty else {
                throw .custom("ERR wrong number of arguments for 'memory|\(sub.lowercased())' command")
            }
            return .server(.memory(command))
        }
        switch sub {
        case "USAGE":
            guard let key = rest.first else { throw .custom("ERR wrong number of arguments for 'memory|usage' command") }
            var index = rest.startIndex + 1
            while index < rest.endIndex {
                guard keyword(rest[index]) == "SAMPLES", index + 1 < rest.endIndex else { throw .syntax }
                _ = try integer(rest[index + 1])  // every element is counted, so the sample size changes nothing
                index += 2
            }
            return .server(.memory(.usage(key)))
        case "DOCTOR": return try none(.doctor)
        case "STATS": return try none(.stats)
        case "MALLOC-STATS": return try none(.mallocStats)
        case "PURGE": return try none(.purge)
        case "HELP": return try none(.help)
        default:
            throw .custom("ERR unknown subcommand '\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try MEMORY HELP.")
        }
    }

    /// CLIENT PAUSE | UNPAUSE | REPLY | NO-EVICT | TRACKING | TRACKINGINFO | GETREDIR | CACHING | UNBLOCK;
    /// nil for any other subcommand.
    static func parseClientServer(_ sub: String, _ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest? {
        let rest = a.dropFirst()
        func arity(_ ok: Bool) throws(RedisArgumentError) {
            guard ok else { throw .custom("ERR wrong number of arguments for 'client|\(sub.lowercased())' command") }
        }
        // PAUSE and UNBLOCK take one or two arguments; Redis words more than two like an unknown subcommand.
        if ["PAUSE", "UNBLOCK"].contains(sub), rest.count > 2 {
            throw .custom("ERR unknown subcommand or wrong number of arguments for "
                + "'\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try CLIENT HELP.")
        }
        switch sub {
        case "PAUSE":
            try arity(rest.count == 1 || rest.count == 2)
            let timeout = try nonNegativeTimeout(rest[rest.startIndex])
            var writesOnly = false
            if rest.count == 2 {
                switch keyword(rest[rest.startIndex + 1]) {
                case "WRITE": writesOnly = true
                case "ALL": break
                default: throw .custom("ERR CLIENT PAUSE mode must be WRITE or ALL")
                }
            }
            return .server(.clientPause(milliseconds: timeout, writesOnly: writesOnly))
        case "UNPAUSE":
            try arity(rest.isEmpty)
            return .server(.clientUnpause)
        case "REPLY":
            try arity(rest.count == 1)
            switch keyword(rest[rest.startIndex]) {
            case "ON": return .server(.clientReply(.on))
            case "OFF": return .server(.clientReply(.off))
            case "SKIP": return .server(.clientReply(.skip))
            default: throw .syntax
            }
        case "NO-EVICT":
            // Nothing is ever evicted here (maxmemory 0, noeviction): on and off both hold.
            try arity(rest.count == 1)
            guard ["ON", "OFF"].contains(keyword(rest[rest.startIndex])) else { throw .syntax }
            return .reply(.ok)
        case "TRACKING":
            try arity(rest.count >= 1)
            switch keyword(rest[rest.startIndex]) {
            case "OFF": return .reply(.ok)
            case "ON":
                throw .custom("ERR client-side caching (CLIENT TRACKING ON) is not supported by elastickv: "
                    + "invalidation messages would have to follow writes applied on every member")
            default: throw .syntax
            }
        case "TRACKINGINFO":
            try arity(rest.isEmpty)
            return .reply(.map([
                .init(.bulk("flags"), .set([.bulk("off")])), .init(.bulk("redirect"), .integer(-1)),
                .init(.bulk("prefixes"), .array([])),
            ]))
        case "GETREDIR":
            try arity(rest.isEmpty)
            return .reply(.integer(-1))
        case "CACHING":
            try arity(rest.count == 1)
            throw .custom("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                + "OPTOUT mode enabled")
        case "UNBLOCK":
            try arity(rest.count == 1 || rest.count == 2)
            _ = try integer(rest[rest.startIndex])
            if rest.count == 2, !["TIMEOUT", "ERROR"].contains(keyword(rest[rest.startIndex + 1])) {
                throw .custom("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
            // A blocked BLPOP may be committing its pop at any moment: ending it from outside could lose the
            // element it popped, so blocked commands end only by their timeout, their data or a disconnect.
            throw .custom("ERR CLIENT UNBLOCK is not supported by elastickv: a blocked command may be committing "
                + "its write; use a timeout on the blocking command or close its connection")
        default:
            return nil
        }
    }

    /// DEBUG HELP, for the subcommands built here.
    static let debugHelp = [
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "SLEEP <seconds>",
        "    Stop the connection for <seconds> (decimals allowed); the node keeps serving other clients.",
        "HELP",
        "    Print this help.",
    ]
}
