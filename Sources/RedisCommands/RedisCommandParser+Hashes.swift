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
            .write(.hashIncrementByFloat(key: a[a.startIndex], field: a[a.startIndex + 1],
                                         delta: try float(a[a.startIndex + 2])), .direct)
        },
        "hstrlen": Spec(arity: 3) { _, a, _ in .read(.hashFieldLength(a[a.startIndex], field: a[a.startIndex + 1])) },
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
