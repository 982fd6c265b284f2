import KV

extension RedisCommandParser {
    static let setSpecs: [String: Spec] = [
        "sadd": Spec(arity: -3) { _, a, _ in .write(.sets(.add(key: a[a.startIndex], members: Array(a.dropFirst()))), .direct) },
        "srem": Spec(arity: -3) { _, a, _ in
            .write(.sets(.remove(key: a[a.startIndex], members: Array(a.dropFirst()))), .direct)
        },
        "sismember": Spec(arity: 3) { _, a, _ in .read(.setIsMember(a[a.startIndex], member: a[a.startIndex + 1])) },
        "smismember": Spec(arity: -3) { _, a, _ in .read(.setAreMembers(a[a.startIndex], members: Array(a.dropFirst()))) },
        "scard": Spec(arity: 2) { _, a, _ in .read(.setCardinality(a[a.startIndex])) },
        "smembers": Spec(arity: 2) { _, a, _ in .read(.setMembers(a[a.startIndex])) },
        "srandmember": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count <= 2 else { throw .syntax }
            guard a.count == 2 else { return .read(.setRandomMember(a[a.startIndex], count: nil)) }
            let count = try integer(a[a.startIndex + 1])
            guard count != .min else { throw .custom(outOfSignedRange) }
            return .read(.setRandomMember(a[a.startIndex], count: count))
        },
        "spop": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count <= 2 else { throw .syntax }
            guard a.count == 2 else { return .write(.sets(.pop(key: a[a.startIndex], count: nil)), .direct) }
            let count = try nonNegative(a[a.startIndex + 1], "ERR value is out of range, must be positive")
            return .write(.sets(.pop(key: a[a.startIndex], count: count)), .direct)
        },
        "smove": Spec(arity: 4) { _, a, _ in
            .write(.sets(.move(source: a[a.startIndex], destination: a[a.startIndex + 1], member: a[a.startIndex + 2])),
                   .direct)
        },
        "sinter": Spec(arity: -2) { _, a, _ in .read(.setCombination(.intersection, keys: Array(a))) },
        "sunion": Spec(arity: -2) { _, a, _ in .read(.setCombination(.union, keys: Array(a))) },
        "sdiff": Spec(arity: -2) { _, a, _ in .read(.setCombination(.difference, keys: Array(a))) },
        "sinterstore": store(.intersection),
        "sunionstore": store(.union),
        "sdiffstore": store(.difference),
        "sintercard": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let keyCount = try positive(a[a.startIndex], "ERR numkeys should be greater than 0")
            guard keyCount <= Int64(a.count - 1) else {
                throw .custom("ERR Number of keys can't be greater than number of args")
            }
            let keysEnd = a.startIndex + 1 + Int(keyCount)
            var limit: Int64 = 0
            var index = keysEnd
            while index < a.endIndex {
                guard keyword(a[index]) == "LIMIT", index + 1 < a.endIndex else { throw .syntax }
                limit = try nonNegative(a[index + 1], "ERR LIMIT can't be negative")
                index += 2
            }
            return .read(.setIntersectionCardinality(keys: Array(a[a.startIndex + 1..<keysEnd]), limit: limit))
        },
        "sscan": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let cursor = try scanCursor(a[a.startIndex + 1])
            let (pattern, count) = try scanOptions(a.dropFirst(2)) { _, _ throws(RedisArgumentError) in throw .syntax }
            return .read(.setScan(a[a.startIndex], cursor: cursor, pattern: pattern, count: count))
        },
    ]

    private static func store(_ operation: SetOperation) -> Spec {
        Spec(arity: -3) { _, a, _ in
            .write(.sets(.store(operation, destination: a[a.startIndex], keys: Array(a.dropFirst()))), .direct)
        }
    }
}
