import KV

extension RedisCommandParser {
    static let hashSpecs: [String: Spec] = [
        "hset": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            .write(.hashSet(key: a[a.startIndex], fields: try pairs(a.dropFirst())), .direct)
        },
        "hmset": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            .write(.hashSet(key: a[a.startIndex], fields: try pairs(a.dropFirst())), .okOnSuccess)
        },
        "hsetnx": Spec(arity: 4) { _, a, _ in
            .write(.hashSetIfAbsent(key: a[a.startIndex], field: a[a.startIndex + 1], value: a[a.startIndex + 2]),
                   .direct)
        },
        "hincrbyfloat": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let delta = try float(a[a.startIndex + 2])
            guard delta.isFinite else { throw .custom("ERR value is NaN or Infinity") }
            return .write(.hashIncrementByFloat(key: a[a.startIndex], field: a[a.startIndex + 1], delta: delta), .direct)
        },
        "hstrlen": Spec(arity: 3) { _, a, _ in .read(.hashFieldLength(a[a.startIndex], field: a[a.startIndex + 1])) },
        "hscan": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let cursor = try scanCursor(a[a.startIndex + 1])
            var options = Array(a.dropFirst(2))
            let noValues = options.last.map { keyword($0) == "NOVALUES" } ?? false
            if noValues { options.removeLast() }
            let (pattern, count) = try scanOptions(options[...]) { _, _ throws(RedisArgumentError) in throw .syntax }
            return .read(.hashScan(a[a.startIndex], cursor: cursor, pattern: pattern, count: count, noValues: noValues))
        },
        "hrandfield": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count > 1 else { return .read(.hashRandomField(a[a.startIndex], count: nil, withValues: false)) }
            guard a.count <= 3 else { throw .syntax }
            let withValues = a.count == 3
            if withValues, keyword(a[a.startIndex + 2]) != "WITHVALUES" { throw .syntax }
            let count = try integer(a[a.startIndex + 1])
            guard count != .min else {
                throw .custom("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            return .read(.hashRandomField(a[a.startIndex], count: count, withValues: withValues))
        },
        "hget": Spec(arity: 3) { _, a, _ in .read(.hashGet(a[a.startIndex], field: a[a.startIndex + 1])) },
        "hmget": Spec(arity: -3) { _, a, _ in .read(.hashMultiGet(a[a.startIndex], fields: Array(a.dropFirst()))) },
        "hdel": Spec(arity: -3) { _, a, _ in .write(.hashDelete(key: a[a.startIndex], fields: Array(a.dropFirst())),
                                                    .direct) },
        "hgetall": Spec(arity: 2) { _, a, _ in .read(.hashGetAll(a[a.startIndex])) },
        "hlen": Spec(arity: 2) { _, a, _ in .read(.hashLength(a[a.startIndex])) },
        "hexists": Spec(arity: 3) { _, a, _ in .read(.hashExists(a[a.startIndex], field: a[a.startIndex + 1])) },
        "hkeys": Spec(arity: 2) { _, a, _ in .read(.hashKeys(a[a.startIndex])) },
        "hvals": Spec(arity: 2) { _, a, _ in .read(.hashValues(a[a.startIndex])) },
        "hincrby": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .write(.hashIncrementBy(key: a[a.startIndex], field: a[a.startIndex + 1],
                                    delta: try integer(a[a.startIndex + 2])), .direct)
        },
    ]
}
