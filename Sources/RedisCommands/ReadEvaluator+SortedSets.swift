import KV
import RESP
import Storage

extension ReadEvaluator {
    func evaluateSortedSet(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .sortedSetScore(let key, let member):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                try reader.sortedSetScore(header, member).map(RESPValue.double) ?? .null
            } ?? .null
        case .sortedSetScores(let key, let members):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                .array(try members.map { (member) throws(StorageError) in
                    try reader.sortedSetScore(header, member).map(RESPValue.double) ?? .null
                })
            } ?? .array(members.map { _ in .null })
        case .sortedSetCardinality(let key):
            return try sortedSet(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .sortedSetCount(let key, let range):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                .integer(Int64(try reader.sortedSetCount(header, range)))
            } ?? .integer(0)
        case .sortedSetRank(let key, let member, let reverse):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                try reader.sortedSetRank(header, member, reverse: reverse).map { .integer(Int64($0)) } ?? .null
            } ?? .null
        case .sortedSetRange(let key, let query, let withScores):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                Self.reply(try reader.sortedSetQuery(header, query), withScores: withScores)
            } ?? .array([])
        case .sortedSetRandomMember(let key, let count, let withScores):
            return try sortedSet(key, now) { (header) throws(StorageError) in
                try randomMembers(header, count: count, withScores: withScores)
            } ?? (count == nil ? .null : .array([]))
        case .sortedSetCombination(let operation, let keys, let weights, let aggregate, let withScores):
            guard let sources = try scoredSources(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            let result = try SortedSetAlgebra.combine(operation, sources, weights: weights, aggregate: aggregate,
                                                      in: reader)
            return Self.reply(result, withScores: withScores)
        case .sortedSetIntersectionCardinality(let keys, let limit):
            guard let sources = try scoredSources(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            return .integer(try SortedSetAlgebra.intersectionCount(sources, limit: limit, in: reader))
        case .sortedSetRefusal(let keys, let refusal):
            guard try scoredSources(keys, now) != nil else { return .error(CommandError.wrongType.redisMessage) }
            return .error(refusal)
        case .sortedSetScan(let key, let cursor, let pattern, let count):
            let resume = cursors.resumeKey(for: cursor)
            let answer = try sortedSet(key, now) { (header) throws(StorageError) in
                // A small sorted set comes back whole, in order, whatever the cursor says, as Redis answers a
                // listpack one; a larger one in pages of member rows.
                let entries: [ScoredMember]
                var next: UInt64 = 0
                if header.count <= Self.smallHashFields {
                    entries = try reader.sortedSetEntries(header, 0..<header.count)
                } else {
                    guard let start = resume else { return .error("ERR invalid cursor") }
                    let page = try reader.sortedSetPage(header, from: start, limit: max(count, 1))
                    entries = page.entries
                    next = page.next.map { cursors.open(resumeAt: $0) } ?? 0
                }
                let items = entries.filter { pattern == nil || GlobPattern.matches(pattern!, $0.member) }
                    .flatMap { [RESPValue.bulkString($0.member), .bulk(RESPValue.format($0.score))] }
                return .array([.bulk(String(next)), .array(items)])
            }
            return answer ?? .array([.bulk("0"), .array([])])
        default:
            preconditionFailure("only sorted-set read commands reach evaluateSortedSet")
        }
    }

    /// Members, with their scores when asked (RESP3: pairs).
    static func reply(_ entries: [ScoredMember], withScores: Bool) -> RESPValue {
        guard withScores else { return .array(entries.map { .bulkString($0.member) }) }
        return .pairs(entries.map { RESPValue.Pair(.bulkString($0.member), .double($0.score)) })
    }

    /// Applies `body` to the sorted set at `key`; `nil` when missing; WRONGTYPE for another type.
    private func sortedSet(_ key: [UInt8], _ now: UInt64, _ body: (SortedSetHeader) throws(StorageError) -> RESPValue)
        throws(StorageError) -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .sortedSet(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return try body(header)
    }

    /// The inputs of ZUNION, ZINTER, ZDIFF and ZINTERCARD (`nil` items for missing keys); `nil` when a key
    /// holds neither a set nor a sorted set.
    private func scoredSources(_ keys: [[UInt8]], _ now: UInt64) throws(StorageError) -> [ScoredSource?]? {
        var sources: [ScoredSource?] = []
        for key in keys {
            guard let entry = try reader.lookup(key, nowMillis: now) else {
                sources.append(nil)
                continue
            }
            switch entry.value {
            case .set(let header): sources.append(.set(header))
            case .sortedSet(let header): sources.append(.sortedSet(header))
            default: return nil
            }
        }
        return sources
    }

    /// ZRANDMEMBER: one member; `count >= 0` distinct members (the whole set, in order, when it is smaller);
    /// `count < 0` `-count` members that may repeat, each at its own random rank.
    private func randomMembers(_ header: SortedSetHeader, count: Int64?, withScores: Bool) throws(StorageError)
        -> RESPValue
    {
        func at(_ rank: UInt64) throws(StorageError) -> ScoredMember {
            try reader.sortedSetEntries(header, rank..<rank + 1)[0]
        }
        guard let count else { return .bulkString(try at(UInt64.random(in: 0..<header.count)).member) }
        let picked: [ScoredMember]
        if count >= 0, UInt64(count) >= header.count {
            picked = try reader.sortedSetEntries(header, 0..<header.count)
        } else if count >= 0, UInt64(count) * 2 > header.count {
            // Most of the set: read it once and keep a random part (Redis, too, copies it then).
            picked = Array(try reader.sortedSetEntries(header, 0..<header.count).shuffled().prefix(Int(count)))
        } else if count >= 0 {
            var ranks = Set<UInt64>()
            while ranks.count < Int(count) { ranks.insert(UInt64.random(in: 0..<header.count)) }
            var chosen: [ScoredMember] = []
            for rank in ranks { chosen.append(try at(rank)) }
            picked = chosen
        } else {
            var chosen: [ScoredMember] = []
            let wanted = Int(min(count.magnitude, UInt64(Self.maxRandomFields)))
            chosen.reserveCapacity(wanted)
            for _ in 0..<wanted { chosen.append(try at(UInt64.random(in: 0..<header.count))) }
            picked = chosen
        }
        return Self.reply(picked, withScores: withScores)
    }

    /// What OBJECT ENCODING answers for a sorted set, as Redis 7.0 encodes one built by ZADD: listpack while
    /// it holds at most 128 members of at most 64 bytes, skiplist otherwise.
    func sortedSetEncoding(_ header: SortedSetHeader) throws(StorageError) -> String {
        guard header.count <= 128 else { return "skiplist" }
        let small = try reader.sortedSetEntries(header, 0..<header.count).allSatisfy { $0.member.count <= 64 }
        return small ? "listpack" : "skiplist"
    }
}
