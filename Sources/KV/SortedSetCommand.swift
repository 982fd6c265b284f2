/// ZADD's options.
public struct SortedSetAddOptions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Only add new members.
    public static let onlyNew = SortedSetAddOptions(rawValue: 1 << 0)
    /// Only update existing members.
    public static let onlyExisting = SortedSetAddOptions(rawValue: 1 << 1)
    /// Update only when the new score is greater.
    public static let greater = SortedSetAddOptions(rawValue: 1 << 2)
    /// Update only when the new score is less.
    public static let less = SortedSetAddOptions(rawValue: 1 << 3)
    /// Answer added plus changed members.
    public static let changed = SortedSetAddOptions(rawValue: 1 << 4)
    /// Add the score to the member's (ZINCRBY); one member only; answers the new score.
    public static let increment = SortedSetAddOptions(rawValue: 1 << 5)

    static let all: SortedSetAddOptions = [.onlyNew, .onlyExisting, .greater, .less, .changed, .increment]
}

/// How ZUNION, ZINTER and ZDIFF (and their STORE forms) combine their inputs.
public enum SortedSetOperation: UInt8, Hashable, Sendable {
    case union = 1, intersection, difference
}

/// Which pop reply a pop command gives.
public enum SortedSetPopForm: UInt8, Hashable, Sendable {
    /// ZPOPMIN / ZPOPMAX key [count]: `[member, score]` without a count, else the pairs (an empty array for a
    /// missing key).
    case single = 1
    /// ZMPOP / BZMPOP: `[key, [[member, score] …]]`, or a null array when every key is empty.
    case multi
    /// BZPOPMIN / BZPOPMAX: `[key, member, score]`, or a null array when every key is empty.
    case keyed
}

/// The sorted-set commands that change state.
public enum SortedSetCommand: Hashable, Sendable {
    /// ZADD (and ZINCRBY, as ZADD INCR): `entries` are score/member pairs (with INCR, one increment).
    case add(key: [UInt8], entries: [ScoredMember], options: SortedSetAddOptions)
    /// ZREM: answers how many members were removed.
    case remove(key: [UInt8], members: [[UInt8]])
    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX: answers how many members were removed.
    case removeRange(key: [UInt8], SortedSetRange)
    /// ZPOPMIN/ZPOPMAX (one key), ZMPOP and the attempts of BZPOPMIN, BZPOPMAX and BZMPOP: pops from the
    /// first key holding members (`highest`: from the top); `count == nil` pops one.
    case pop(keys: [[UInt8]], highest: Bool, count: Int64?, form: SortedSetPopForm)
    /// ZRANGESTORE destination source …: replaces `destination` with the members `query` names; answers its
    /// size.
    case rangeStore(destination: [UInt8], source: [UInt8], SortedSetQuery)
    /// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: replaces `destination` with the combination; answers its size.
    case store(SortedSetOperation, destination: [UInt8], keys: [[UInt8]], weights: [Double]?, aggregate: ScoreAggregate)

    /// Every key the command may write.
    public var keys: [[UInt8]] {
        switch self {
        case .add(let key, _, _), .remove(let key, _), .removeRange(let key, _): return [key]
        case .pop(let keys, _, _, _): return keys
        case .rangeStore(let destination, let source, _): return [destination, source]
        case .store(_, let destination, let keys, _, _): return [destination] + keys
        }
    }

    /// The largest member the command carries (checked against the value limit).
    public var largestElement: Int? {
        guard case .add(_, let entries, _) = self else { return nil }
        return entries.map(\.member.count).max()
    }
}
