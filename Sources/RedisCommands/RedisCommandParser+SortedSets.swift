#if canImport(Glibc)
import Glibc
#endif
import KV

extension RedisCommandParser {
    static let sortedSetSpecs: [String: Spec] = [
        "zadd": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in try parseAdd(a) },
        "zincrby": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let entry = ScoredMember(score: try float(a[a.startIndex + 1]), member: a[a.startIndex + 2])
            return .write(.sortedSets(.add(key: a[a.startIndex], entries: [entry], options: .increment)), .direct)
        },
        "zrem": Spec(arity: -3) { _, a, _ in
            .write(.sortedSets(.remove(key: a[a.startIndex], members: Array(a.dropFirst()))), .direct)
        },
        "zscore": Spec(arity: 3) { _, a, _ in .read(.sortedSetScore(a[a.startIndex], member: a[a.startIndex + 1])) },
        "zmscore": Spec(arity: -3) { _, a, _ in .read(.sortedSetScores(a[a.startIndex], members: Array(a.dropFirst()))) },
        "zcard": Spec(arity: 2) { _, a, _ in .read(.sortedSetCardinality(a[a.startIndex])) },
        "zcount": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .read(.sortedSetCount(a[a.startIndex], try scoreRange(a[a.startIndex + 1], a[a.startIndex + 2])))
        },
        "zlexcount": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            .read(.sortedSetCount(a[a.startIndex], try lexRange(a[a.startIndex + 1], a[a.startIndex + 2])))
        },
        "zrank": Spec(arity: 3) { _, a, _ in
            .read(.sortedSetRank(a[a.startIndex], member: a[a.startIndex + 1], reverse: false))
        },
        "zrevrank": Spec(arity: 3) { _, a, _ in
            .read(.sortedSetRank(a[a.startIndex], member: a[a.startIndex + 1], reverse: true))
        },
        "zrange": range(.auto, reverse: nil),
        "zrevrange": range(.rank, reverse: true),
        "zrangebyscore": range(.score, reverse: false),
        "zrevrangebyscore": range(.score, reverse: true),
        "zrangebylex": range(.lex, reverse: false),
        "zrevrangebylex": range(.lex, reverse: true),
        "zrangestore": Spec(arity: -5) { _, a, _ throws(RedisArgumentError) in
            let (query, _) = try parseRange(a.dropFirst(), kind: .auto, reverse: nil, store: true)
            return .write(.sortedSets(.rangeStore(destination: a[a.startIndex], source: a[a.startIndex + 1], query)),
                          .direct)
        },
        "zremrangebyrank": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let range = SortedSetRange.rank(start: try integer(a[a.startIndex + 1]), stop: try integer(a[a.startIndex + 2]))
            return .write(.sortedSets(.removeRange(key: a[a.startIndex], range)), .direct)
        },
        "zremrangebyscore": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let range = try scoreRange(a[a.startIndex + 1], a[a.startIndex + 2])
            return .write(.sortedSets(.removeRange(key: a[a.startIndex], range)), .direct)
        },
        "zremrangebylex": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let range = try lexRange(a[a.startIndex + 1], a[a.startIndex + 2])
            return .write(.sortedSets(.removeRange(key: a[a.startIndex], range)), .direct)
        },
        "zpopmin": pop(highest: false),
        "zpopmax": pop(highest: true),
        "zmpop": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let (keys, highest, count) = try parseMultiPop(a, side: side)
            return .write(.sortedSets(.pop(keys: keys, highest: highest, count: count, form: .multi)), .direct)
        },
        "bzpopmin": blockingPop(highest: false),
        "bzpopmax": blockingPop(highest: true),
        "bzmpop": Spec(arity: -5) { _, a, _ throws(RedisArgumentError) in
            let timeout = try timeoutMillis(a[a.startIndex])
            let (keys, highest, count) = try parseMultiPop(a.dropFirst(), side: side)
            let attempt = Command.sortedSets(.pop(keys: keys, highest: highest, count: count, form: .multi))
            return .blocking(BlockingCommand(attempt: attempt, keys: keys, timeoutMillis: timeout, reply: .direct))
        },
        "zrandmember": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count > 1 else { return .read(.sortedSetRandomMember(a[a.startIndex], count: nil, withScores: false)) }
            let count = try integer(a[a.startIndex + 1])
            guard count != .min else { throw .custom(outOfSignedRange) }
            guard a.count == 2 || (a.count == 3 && keyword(a[a.startIndex + 2]) == "WITHSCORES") else { throw .syntax }
            let withScores = a.count == 3
            if withScores, count < -Int64.max / 2 || count > Int64.max / 2 { throw .custom("ERR value is out of range") }
            return .read(.sortedSetRandomMember(a[a.startIndex], count: count, withScores: withScores))
        },
        "zunion": combination(.union),
        "zinter": combination(.intersection),
        "zdiff": combination(.difference),
        "zunionstore": combinationStore(.union),
        "zinterstore": combinationStore(.intersection),
        "zdiffstore": combinationStore(.difference),
        "zintercard": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let keys = try combinationKeys(a, name: "zintercard")
            var limit: Int64 = 0
            var index = a.startIndex + 1 + keys.count
            while index < a.endIndex {
                guard keyword(a[index]) == "LIMIT", index + 1 < a.endIndex else {
                    return .read(.sortedSetRefusal(keys: keys, refusal: RedisArgumentError.syntax.message(command: "")))
                }
                guard let value = RedisNumber.parseInteger(a[index + 1]), value >= 0 else {
                    return .read(.sortedSetRefusal(keys: keys, refusal: "ERR LIMIT can't be negative"))
                }
                limit = value
                index += 2
            }
            return .read(.sortedSetIntersectionCardinality(keys: keys, limit: limit))
        },
        "zscan": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let cursor = try scanCursor(a[a.startIndex + 1])
            let (pattern, count) = try scanOptions(a.dropFirst(2)) { _, _ throws(RedisArgumentError) in throw .syntax }
            return .read(.sortedSetScan(a[a.startIndex], cursor: cursor, pattern: pattern, count: count))
        },
    ]

    /// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …, with Redis's checks in Redis's order.
    private static func parseAdd(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        var options: SortedSetAddOptions = []
        var index = a.startIndex + 1
        let flags: [String: SortedSetAddOptions] = [
            "NX": .onlyNew, "XX": .onlyExisting, "CH": .changed, "INCR": .increment, "GT": .greater, "LT": .less,
        ]
        while index < a.endIndex, let flag = flags[keyword(a[index])] {
            options.insert(flag)
            index += 1
        }
        let elements = a.endIndex - index
        guard elements > 0, elements % 2 == 0 else { throw .syntax }
        if options.isSuperset(of: [.onlyNew, .onlyExisting]) {
            throw .custom("ERR XX and NX options at the same time are not compatible")
        }
        if options.isSuperset(of: [.greater, .less])
            || (options.contains(.onlyNew) && !options.isDisjoint(with: [.greater, .less])) {
            throw .custom("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if options.contains(.increment), elements > 2 {
            throw .custom("ERR INCR option supports a single increment-element pair")
        }
        var entries: [ScoredMember] = []
        entries.reserveCapacity(elements / 2)
        while index < a.endIndex {
            entries.append(ScoredMember(score: try float(a[index]), member: a[index + 1]))
            index += 2
        }
        return .write(.sortedSets(.add(key: a[a.startIndex], entries: entries, options: options)), .direct)
    }

    /// MIN or MAX (true for MAX).
    private static func side(_ bytes: [UInt8]) throws(RedisArgumentError) -> Bool {
        switch keyword(bytes) {
        case "MIN": return false
        case "MAX": return true
        default: throw .syntax
        }
    }

    private static func pop(highest: Bool) -> Spec {
        Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            guard a.count <= 2 else { throw .syntax }
            var count: Int64?
            if a.count == 2 {
                count = try nonNegative(a[a.startIndex + 1], "ERR value is out of range, must be positive")
            }
            return .write(.sortedSets(.pop(keys: [a[a.startIndex]], highest: highest, count: count, form: .single)),
                          .direct)
        }
    }

    private static func blockingPop(highest: Bool) -> Spec {
        Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let keys = Array(a.dropLast())
            let timeout = try timeoutMillis(a[a.endIndex - 1])
            let attempt = Command.sortedSets(.pop(keys: keys, highest: highest, count: nil, form: .keyed))
            return .blocking(BlockingCommand(attempt: attempt, keys: keys, timeoutMillis: timeout, reply: .direct))
        }
    }

    // MARK: - Ranges

    /// Which kind of range a ZRANGE form reads (`auto`: ZRANGE and ZRANGESTORE, where BYSCORE / BYLEX say).
    enum RangeKind {
        case auto, rank, score, lex
    }

    private static func range(_ kind: RangeKind, reverse: Bool?) -> Spec {
        Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let (query, withScores) = try parseRange(a, kind: kind, reverse: reverse, store: false)
            return .read(.sortedSetRange(a[a.startIndex], query, withScores: withScores))
        }
    }

    /// `key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` with the options the form allows
    /// (a fixed kind or direction refuses BYSCORE/BYLEX or REV; a store refuses WITHSCORES), checked in
    /// Redis's order: the options, then their conflicts, then the range.
    static func parseRange(_ a: ArraySlice<[UInt8]>, kind fixedKind: RangeKind, reverse fixedReverse: Bool?, store: Bool)
        throws(RedisArgumentError) -> (SortedSetQuery, withScores: Bool)
    {
        var kind = fixedKind
        var reverse = fixedReverse
        var withScores = false
        var offset: Int64 = 0, limit: Int64 = -1
        var index = a.startIndex + 3
        while index < a.endIndex {
            let option = keyword(a[index])
            if !store, option == "WITHSCORES" {
                withScores = true
            } else if option == "LIMIT", a.endIndex - index - 1 >= 2 {
                offset = try integer(a[index + 1])
                limit = try integer(a[index + 2])
                index += 2
            } else if reverse == nil, option == "REV" {
                reverse = true
            } else if kind == .auto, option == "BYLEX" {
                kind = .lex
            } else if kind == .auto, option == "BYSCORE" {
                kind = .score
            } else {
                throw .syntax
            }
            index += 1
        }
        if kind == .auto { kind = .rank }
        let isReverse = reverse ?? false
        if limit != -1, kind == .rank {
            throw .custom("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores, kind == .lex {
            throw .custom("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // Reversed score and lex ranges are given as max, then min.
        var (first, second) = (a[a.startIndex + 1], a[a.startIndex + 2])
        if isReverse, kind != .rank { swap(&first, &second) }
        let range: SortedSetRange
        switch kind {
        case .rank, .auto: range = .rank(start: try integer(first), stop: try integer(second))
        case .score: range = try scoreRange(first, second)
        case .lex: range = try lexRange(first, second)
        }
        return (SortedSetQuery(range, reverse: isReverse, limit: kind == .rank ? nil : (offset, limit)), withScores)
    }

    /// A score range `min max` (`(` excludes), read as Redis reads one: strtod, so leading spaces and values
    /// beyond the double range (±inf) pass; NaN and trailing bytes do not.
    static func scoreRange(_ min: [UInt8], _ max: [UInt8]) throws(RedisArgumentError) -> SortedSetRange {
        func bound(_ bytes: [UInt8]) -> ScoreBound? {
            let exclusive = bytes.first == UInt8(ascii: "(")
            guard let value = strtodWhole(exclusive ? Array(bytes.dropFirst()) : bytes) else { return nil }
            return ScoreBound(value, exclusive: exclusive)
        }
        guard let low = bound(min), let high = bound(max) else { throw .custom("ERR min or max is not a float") }
        return .score(min: low, max: high)
    }

    /// `bytes` read by C's strtod up to the first NUL, which must end the number; `nil` for NaN.
    private static func strtodWhole(_ bytes: [UInt8]) -> Double? {
        let text = bytes.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
        return text.withUnsafeBufferPointer { buffer -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end.pointee == 0, !value.isNaN else { return nil }
            return value
        }
    }

    /// A lexicographic range `min max`: `-`, `+`, `[member` or `(member`.
    static func lexRange(_ min: [UInt8], _ max: [UInt8]) throws(RedisArgumentError) -> SortedSetRange {
        func bound(_ bytes: [UInt8]) -> LexBound? {
            switch bytes.first {
            case UInt8(ascii: "+"): return bytes.count == 1 ? .maximum : nil
            case UInt8(ascii: "-"): return bytes.count == 1 ? .minimum : nil
            case UInt8(ascii: "["): return .inclusive(Array(bytes.dropFirst()))
            case UInt8(ascii: "("): return .exclusive(Array(bytes.dropFirst()))
            default: return nil
            }
        }
        guard let low = bound(min), let high = bound(max) else {
            throw .custom("ERR min or max not valid string range item")
        }
        return .lex(min: low, max: high)
    }

    // MARK: - ZUNION, ZINTER, ZDIFF

    /// The input keys of `numkeys key…` starting at `a`'s first argument.
    private static func combinationKeys(_ a: ArraySlice<[UInt8]>, name: String) throws(RedisArgumentError) -> [[UInt8]] {
        let count = try integer(a[a.startIndex])
        guard count >= 1 else { throw .custom("ERR at least 1 input key is needed for '\(name)' command") }
        guard count <= Int64(a.count - 1) else { throw .syntax }
        return Array(a[a.startIndex + 1..<a.startIndex + 1 + Int(count)])
    }

    /// The options after the keys: WEIGHTS and AGGREGATE (not for ZDIFF), WITHSCORES (not for the STORE
    /// forms). Redis looks the keys up before it reads them, so an error here is answered only when every
    /// key holds a set or a sorted set.
    private static func combinationOptions(_ a: ArraySlice<[UInt8]>, keyCount: Int, _ operation: SortedSetOperation,
                                           store: Bool)
        -> Result<(weights: [Double]?, aggregate: ScoreAggregate, withScores: Bool), RedisArgumentError>
    {
        var weights: [Double]?
        var aggregate = ScoreAggregate.sum
        var withScores = false
        var index = a.startIndex
        while index < a.endIndex {
            let remaining = a.endIndex - index
            let option = keyword(a[index])
            if operation != .difference, remaining >= keyCount + 1, option == "WEIGHTS" {
                var read: [Double] = []
                for weight in a[index + 1...index + keyCount] {
                    guard let value = RedisNumber.parseFloat(weight) else {
                        return .failure(.custom("ERR weight value is not a float"))
                    }
                    read.append(value)
                }
                weights = read
                index += keyCount + 1
            } else if operation != .difference, remaining >= 2, option == "AGGREGATE" {
                switch keyword(a[index + 1]) {
                case "SUM": aggregate = .sum
                case "MIN": aggregate = .min
                case "MAX": aggregate = .max
                default: return .failure(.syntax)
                }
                index += 2
            } else if !store, option == "WITHSCORES" {
                withScores = true
                index += 1
            } else {
                return .failure(.syntax)
            }
        }
        return .success((weights, aggregate, withScores))
    }

    private static func combination(_ operation: SortedSetOperation) -> Spec {
        let name = ["zunion", "zinter", "zdiff"][Int(operation.rawValue) - 1]
        return Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let keys = try combinationKeys(a, name: name)
            switch combinationOptions(a.dropFirst(1 + keys.count), keyCount: keys.count, operation, store: false) {
            case .failure(let error):
                return .read(.sortedSetRefusal(keys: keys, refusal: error.message(command: name)))
            case .success(let options):
                return .read(.sortedSetCombination(operation, keys: keys, weights: options.weights,
                                                   aggregate: options.aggregate, withScores: options.withScores))
            }
        }
    }

    private static func combinationStore(_ operation: SortedSetOperation) -> Spec {
        let name = ["zunionstore", "zinterstore", "zdiffstore"][Int(operation.rawValue) - 1]
        return Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let keys = try combinationKeys(a.dropFirst(), name: name)
            switch combinationOptions(a.dropFirst(2 + keys.count), keyCount: keys.count, operation, store: true) {
            case .failure(let error):
                return .read(.sortedSetRefusal(keys: keys, refusal: error.message(command: name)))
            case .success(let options):
                return .write(.sortedSets(.store(operation, destination: a[a.startIndex], keys: keys,
                                                 weights: options.weights, aggregate: options.aggregate)), .direct)
            }
        }
    }
}
