import KV

extension RedisCommandParser {
    static let keySpecs: [String: Spec] = [
        "del": Spec(arity: -2) { _, a, _ in .write(.delete(keys: Array(a)), .direct) },
        "unlink": Spec(arity: -2) { _, a, _ in .write(.delete(keys: Array(a)), .direct) },
        "exists": Spec(arity: -2) { _, a, _ in .read(.exists(Array(a))) },
        "expire": Spec(arity: -3) { _, a, now throws(RedisArgumentError) in
            try expire(a, at: deadline(try integer(a[a.startIndex + 1]), unitMillis: 1000, now: now,
                                       allowNonPositive: true))
        },
        "pexpire": Spec(arity: -3) { _, a, now throws(RedisArgumentError) in
            try expire(a, at: deadline(try integer(a[a.startIndex + 1]), unitMillis: 1, now: now,
                                       allowNonPositive: true))
        },
        "expireat": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            try expire(a, at: absolute(try integer(a[a.startIndex + 1]), unitMillis: 1000, allowNonPositive: true))
        },
        "pexpireat": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            try expire(a, at: absolute(try integer(a[a.startIndex + 1]), unitMillis: 1, allowNonPositive: true))
        },
        "expiretime": Spec(arity: 2) { _, a, _ in .read(.expireTime(a[a.startIndex], milliseconds: false)) },
        "pexpiretime": Spec(arity: 2) { _, a, _ in .read(.expireTime(a[a.startIndex], milliseconds: true)) },
        "rename": Spec(arity: 3) { _, a, _ in
            .write(.rename(from: a[a.startIndex], to: a[a.startIndex + 1], onlyIfAbsent: false), .direct)
        },
        "renamenx": Spec(arity: 3) { _, a, _ in
            .write(.rename(from: a[a.startIndex], to: a[a.startIndex + 1], onlyIfAbsent: true), .direct)
        },
        "copy": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try parseCopy(a) },
        "touch": Spec(arity: -2) { _, a, _ in .read(.exists(Array(a))) },
        "persist": Spec(arity: 2) { _, a, _ in .write(.persist(key: a[a.startIndex]), .direct) },
        "ttl": Spec(arity: 2) { _, a, _ in .read(.timeToLive(a[a.startIndex], milliseconds: false)) },
        "pttl": Spec(arity: 2) { _, a, _ in .read(.timeToLive(a[a.startIndex], milliseconds: true)) },
        "type": Spec(arity: 2) { _, a, _ in .read(.type(a[a.startIndex])) },
        "keys": Spec(arity: 2) { _, a, _ in .read(.keys(pattern: a[a.startIndex])) },
        "scan": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseScan(a) },
        "dbsize": Spec(arity: 1) { _, _, _ in .read(.databaseSize) },
        "flushall": Spec(arity: -1) { _, a, _ throws(RedisArgumentError) in try flush(a) },
        "flushdb": Spec(arity: -1) { _, a, _ throws(RedisArgumentError) in try flushDatabase(a) },
        "swapdb": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            func index(_ bytes: [UInt8], _ which: String) throws(RedisArgumentError) -> UInt8 {
                guard let value = RedisNumber.parseInteger(bytes) else { throw .custom("ERR invalid \(which) DB index") }
                guard (0..<Int64(RedisKeyspace.databaseCount)).contains(value) else {
                    throw .custom("ERR DB index is out of range")
                }
                return UInt8(value)
            }
            return .write(.swapDatabases(try index(a[a.startIndex], "first"), try index(a[a.startIndex + 1], "second")),
                          .direct)
        },
        "move": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            .write(.move(key: a[a.startIndex], database: try databaseIndex(a[a.startIndex + 1])), .direct)
        },
        "randomkey": Spec(arity: 1) { _, _, _ in .read(.randomKey) },
        "object": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            let name = String(decoding: a[a.startIndex], as: UTF8.self)
            guard let subcommand = ObjectSubcommand(rawValue: name.lowercased()) else {
                throw .custom("ERR unknown subcommand '\(name)'. Try OBJECT HELP.")
            }
            guard a.count == 2 else {
                throw .custom("ERR wrong number of arguments for 'object|\(subcommand.rawValue)' command")
            }
            return .read(.object(subcommand, a[a.startIndex + 1]))
        },
    ]

    /// `FLUSHALL` / `FLUSHDB [ASYNC | SYNC]`: either way the keys are gone when the reply comes (the entry
    /// deletes them all when it applies).
    static func flush(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard a.count <= 1 else { throw .syntax }
        if let mode = a.first, !["ASYNC", "SYNC"].contains(keyword(mode)) { throw .syntax }
        return .write(.flushAll, .direct)
    }

    /// `FLUSHDB [ASYNC | SYNC]`: the connection's database only.
    static func flushDatabase(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard a.count <= 1 else { throw .syntax }
        if let mode = a.first, !["ASYNC", "SYNC"].contains(keyword(mode)) { throw .syntax }
        return .write(.flushDatabase, .direct)
    }

    /// The largest COUNT a SCAN may ask for.
    static let maxScanCount = 10_000

    /// `EXPIRE key amount [NX | XX | GT | LT]` and its variants, with Redis's checks of the options.
    static func expire(_ a: ArraySlice<[UInt8]>, at deadline: @autoclosure () throws(RedisArgumentError) -> UInt64)
        throws(RedisArgumentError) -> RedisRequest
    {
        let key = a[a.startIndex]
        var condition: Command.ExpireCondition = []
        for option in a.dropFirst(2) {
            switch keyword(option) {
            case "NX": condition.insert(.noExpiry)
            case "XX": condition.insert(.hasExpiry)
            case "GT": condition.insert(.later)
            case "LT": condition.insert(.earlier)
            default: throw .custom("ERR Unsupported option \(String(decoding: option, as: UTF8.self))")
            }
        }
        if condition.contains(.noExpiry), condition != .noExpiry {
            throw .custom("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if condition.contains(.later), condition.contains(.earlier) {
            throw .custom("ERR GT and LT options at the same time are not compatible")
        }
        // Redis checks the options before the amount.
        let at = try deadline()
        guard !condition.isEmpty else { return .write(.expireAt(key: key, atMillis: at), .direct) }
        return .write(.expireAtIf(key: key, atMillis: at, condition: condition), .direct)
    }

    /// `COPY source destination [DB index] [REPLACE]`; only database 0 exists until SELECT does.
    static func parseCopy(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let (from, to) = (a[a.startIndex], a[a.startIndex + 1])
        var replace = false
        var target: UInt8?
        var index = a.startIndex + 2
        while index < a.endIndex {
            switch keyword(a[index]) {
            case "REPLACE": replace = true
            case "DB":
                guard index + 1 < a.endIndex else { throw .syntax }
                index += 1
                target = try databaseIndex(a[index])
            default: throw .syntax
            }
            index += 1
        }
        // With DB the databases may differ; the state machine compares them with the connection's.
        if let target { return .write(.copyToDatabase(from: from, to: to, database: target, replace: replace), .direct) }
        guard from != to else { throw .custom("ERR source and destination objects are the same") }
        return .write(.copy(from: from, to: to, replace: replace), .direct)
    }

    /// A database number of SELECT, MOVE and COPY … DB: 0…15.
    static func databaseIndex(_ bytes: [UInt8]) throws(RedisArgumentError) -> UInt8 {
        guard let database = RedisNumber.parseInteger(bytes) else { throw .notAnInteger }
        guard (0..<Int64(RedisKeyspace.databaseCount)).contains(database) else {
            throw .custom("ERR DB index is out of range")
        }
        return UInt8(database)
    }

    /// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`.
    static func parseScan(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let cursor = try scanCursor(a[a.startIndex])
        var type: String?
        let (pattern, count) = try scanOptions(a.dropFirst()) { keyword, value throws(RedisArgumentError) in
            guard keyword == "TYPE" else { throw .syntax }
            type = String(decoding: value, as: UTF8.self).lowercased()
        }
        return .read(.scan(cursor: cursor, pattern: pattern, count: count, type: type))
    }

    /// A cursor as Redis reads it (`strtoul`): an optional sign, decimal digits, no overflow; a negative one
    /// wraps around.
    static func scanCursor(_ bytes: [UInt8]) throws(RedisArgumentError) -> UInt64 {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let magnitude = UInt64(String(decoding: digits, as: UTF8.self)) else { throw .invalidCursor }
        return negative ? 0 &- magnitude : magnitude
    }

    /// The `MATCH` and `COUNT` options of the SCAN family; any other `KEYWORD value` pair goes to `other`.
    static func scanOptions(
        _ a: ArraySlice<[UInt8]>, other: (String, [UInt8]) throws(RedisArgumentError) -> Void
    ) throws(RedisArgumentError) -> (pattern: [UInt8]?, count: Int) {
        var pattern: [UInt8]?
        var count = 10
        var index = a.startIndex
        while index < a.endIndex {
            guard index + 1 < a.endIndex else { throw .syntax }
            switch keyword(a[index]) {
            case "MATCH": pattern = a[index + 1]
            case "COUNT":
                let value = try integer(a[index + 1])
                guard value >= 1 else { throw .syntax }
                count = Int(min(value, Int64(maxScanCount)))
            case let name: try other(name, a[index + 1])
            }
            index += 2
        }
        return (pattern, count)
    }
}
