import KV

extension RedisCommandParser {
    static let keySpecs: [String: Spec] = [
        "del": Spec(arity: -2) { _, a, _ in .write(.delete(keys: Array(a)), .direct) },
        "unlink": Spec(arity: -2) { _, a, _ in .write(.delete(keys: Array(a)), .direct) },
        "exists": Spec(arity: -2) { _, a, _ in .read(.exists(Array(a))) },
        "expire": Spec(arity: 3) { _, a, now throws(RedisArgumentError) in
            try expire(a, at: deadline(try integer(a[a.startIndex + 1]), unitMillis: 1000, now: now,
                                       allowNonPositive: true))
        },
        "pexpire": Spec(arity: 3) { _, a, now throws(RedisArgumentError) in
            try expire(a, at: deadline(try integer(a[a.startIndex + 1]), unitMillis: 1, now: now,
                                       allowNonPositive: true))
        },
        "expireat": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            try expire(a, at: absolute(try integer(a[a.startIndex + 1]), unitMillis: 1000, allowNonPositive: true))
        },
        "pexpireat": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            try expire(a, at: absolute(try integer(a[a.startIndex + 1]), unitMillis: 1, allowNonPositive: true))
        },
        "persist": Spec(arity: 2) { _, a, _ in .write(.persist(key: a[a.startIndex]), .direct) },
        "ttl": Spec(arity: 2) { _, a, _ in .read(.timeToLive(a[a.startIndex], milliseconds: false)) },
        "pttl": Spec(arity: 2) { _, a, _ in .read(.timeToLive(a[a.startIndex], milliseconds: true)) },
        "type": Spec(arity: 2) { _, a, _ in .read(.type(a[a.startIndex])) },
        "keys": Spec(arity: 2) { _, a, _ in .read(.keys(pattern: a[a.startIndex])) },
        "scan": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseScan(a) },
        "dbsize": Spec(arity: 1) { _, _, _ in .read(.databaseSize) },
    ]

    /// The largest COUNT a SCAN may ask for.
    static let maxScanCount = 10_000

    static func expire(_ a: ArraySlice<[UInt8]>, at deadline: UInt64) -> RedisRequest {
        .write(.expireAt(key: a[a.startIndex], atMillis: deadline), .direct)
    }

    /// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` (TYPE is refused: one keyspace of strings
    /// and hashes makes it rarely useful, and a silent ignore would return wrong keys).
    static func parseScan(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard let cursor = UInt64(String(decoding: a[a.startIndex], as: UTF8.self)) else { throw .invalidCursor }
        var pattern: [UInt8]?
        var count = 10
        var index = a.startIndex + 1
        while index < a.endIndex {
            guard index + 1 < a.endIndex else { throw .syntax }
            switch keyword(a[index]) {
            case "MATCH": pattern = a[index + 1]
            case "COUNT":
                let value = try integer(a[index + 1])
                guard value >= 1 else { throw .syntax }
                count = Int(min(value, Int64(maxScanCount)))
            default: throw .syntax
            }
            index += 2
        }
        return .read(.scan(cursor: cursor, pattern: pattern, count: count))
    }
}
