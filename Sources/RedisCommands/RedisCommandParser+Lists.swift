import KV

extension RedisCommandParser {
    static let listSpecs: [String: Spec] = [
        "lpush": push(left: true, onlyIfExists: false),
        "rpush": push(left: false, onlyIfExists: false),
        "lpushx": push(left: true, onlyIfExists: true),
        "rpushx": push(left: false, onlyIfExists: true),
        "lpop": pop(left: true),
        "rpop": pop(left: false),
        "llen": Spec(arity: 2) { _, a, _ in .read(.listLength(a[a.startIndex])) },
        "lrange": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .read(.listRange(a[a.startIndex], start: try integer(a[a.startIndex + 1]),
                             stop: try integer(a[a.startIndex + 2])))
        },
        "lindex": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            .read(.listIndex(a[a.startIndex], index: try integer(a[a.startIndex + 1])))
        },
        "lset": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .write(.list(.set(key: a[a.startIndex], index: try integer(a[a.startIndex + 1]),
                              element: a[a.startIndex + 2])), .direct)
        },
        "linsert": Spec(arity: 5) { _, a, _ throws(RedisArgumentError) in
            let before: Bool
            switch keyword(a[a.startIndex + 1]) {
            case "BEFORE": before = true
            case "AFTER": before = false
            default: throw .syntax
            }
            return .write(.list(.insert(key: a[a.startIndex], before: before, pivot: a[a.startIndex + 2],
                                        element: a[a.startIndex + 3])), .direct)
        },
        "lrem": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .write(.list(.remove(key: a[a.startIndex], count: try integer(a[a.startIndex + 1]),
                                 element: a[a.startIndex + 2])), .direct)
        },
        "ltrim": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .write(.list(.trim(key: a[a.startIndex], start: try integer(a[a.startIndex + 1]),
                               stop: try integer(a[a.startIndex + 2]))), .direct)
        },
        "lpos": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try parsePosition(a) },
        "lmove": Spec(arity: 5) { _, a, _ throws(RedisArgumentError) in
            .write(.list(.move(source: a[a.startIndex], destination: a[a.startIndex + 1],
                               fromLeft: try end(a[a.startIndex + 2]), toLeft: try end(a[a.startIndex + 3]))),
                   .direct)
        },
        "rpoplpush": Spec(arity: 3) { _, a, _ in
            .write(.list(.move(source: a[a.startIndex], destination: a[a.startIndex + 1], fromLeft: false,
                               toLeft: true)), .direct)
        },
        "lmpop": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let (keys, left, count) = try parseMultiPop(a)
            return .write(.list(.multiPop(keys: keys, left: left, count: count)), .direct)
        },
    ]

    private static func push(left: Bool, onlyIfExists: Bool) -> Spec {
        Spec(arity: -3) { _, a, _ in
            .write(.list(.push(key: a[a.startIndex], elements: Array(a.dropFirst()), left: left,
                               onlyIfExists: onlyIfExists)), .direct)
        }
    }

    private static func pop(left: Bool) -> Spec {
        Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count <= 2 else { throw .wrongArity }
            var count: Int64?
            if a.count == 2 {
                count = try nonNegative(a[a.startIndex + 1], "ERR value is out of range, must be positive")
            }
            return .write(.list(.pop(key: a[a.startIndex], left: left, count: count)), .direct)
        }
    }

    /// LEFT or RIGHT (true for LEFT).
    static func end(_ bytes: [UInt8]) throws(RedisArgumentError) -> Bool {
        switch keyword(bytes) {
        case "LEFT": return true
        case "RIGHT": return false
        default: throw .syntax
        }
    }

    /// An integer that must not be negative; `message` answers a negative one or a non-integer, as Redis's
    /// range checks that carry their own message do.
    static func nonNegative(_ bytes: [UInt8], _ message: String) throws(RedisArgumentError) -> Int64 {
        guard let value = RedisNumber.parseInteger(bytes), value >= 0 else { throw .custom(message) }
        return value
    }

    /// An integer in 1…Int64.max; `message` answers anything else.
    static func positive(_ bytes: [UInt8], _ message: String) throws(RedisArgumentError) -> Int64 {
        guard let value = RedisNumber.parseInteger(bytes), value >= 1 else { throw .custom(message) }
        return value
    }

    /// Redis's answer to `Int64.min` where a count must be representable with either sign.
    static let outOfSignedRange =
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"

    private static func parsePosition(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        var rank: Int64 = 1, count: Int64?, maxLength: Int64 = 0
        var index = a.startIndex + 2
        while index < a.endIndex {
            let hasValue = index + 1 < a.endIndex
            switch keyword(a[index]) {
            case "RANK" where hasValue:
                rank = try integer(a[index + 1])
                guard rank != .min else { throw .custom(outOfSignedRange) }
                guard rank != 0 else {
                    throw .custom("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second"
                        + " ... or use negative to start from the end of the list")
                }
            case "COUNT" where hasValue:
                count = try nonNegative(a[index + 1], "ERR COUNT can't be negative")
            case "MAXLEN" where hasValue:
                maxLength = try nonNegative(a[index + 1], "ERR MAXLEN can't be negative")
            default: throw .syntax
            }
            index += 2
        }
        return .read(.listPosition(a[a.startIndex], element: a[a.startIndex + 1], rank: rank, count: count,
                                   maxLength: maxLength))
    }

    /// `numkeys key… LEFT|RIGHT [COUNT count]` (LMPOP, and BLMPOP after its timeout); ZMPOP and BZMPOP read
    /// their MIN|MAX with `side`.
    static func parseMultiPop(
        _ a: ArraySlice<[UInt8]>, side: ([UInt8]) throws(RedisArgumentError) -> Bool = { (bytes) throws(RedisArgumentError) in try end(bytes) }
    ) throws(RedisArgumentError) -> (keys: [[UInt8]], left: Bool, count: Int64) {
        let keyCount = try positive(a[a.startIndex], "ERR numkeys should be greater than 0")
        guard keyCount < Int64(a.count - 1) else { throw .syntax }
        let whereIndex = a.startIndex + 1 + Int(keyCount)
        let left = try side(a[whereIndex])
        var count: Int64?
        var index = whereIndex + 1
        while index < a.endIndex {
            guard count == nil, keyword(a[index]) == "COUNT", index + 1 < a.endIndex else { throw .syntax }
            count = try positive(a[index + 1], "ERR count should be greater than 0")
            index += 2
        }
        return (Array(a[a.startIndex + 1..<whereIndex]), left, count ?? 1)
    }
}
