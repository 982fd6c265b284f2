import Storage

/// Sorted-set reads over any ``ElementRows`` (docs/formats.md §2a).
extension ElementRows {
    func sortedSetTree(_ header: SortedSetHeader) -> StoredSortedSet<Self> {
        StoredSortedSet(rows: self, header: header)
    }

    /// The score of `member`; `nil` when absent. One lookup.
    public func sortedSetScore(_ header: SortedSetHeader, _ member: [UInt8]) throws(StorageError) -> Double? {
        let name = try elementIndexes.index(header.indexKeyID).name(member)
        guard let body = try elementRow(of: header.generation, part: SortedSetParts.member(name)) else { return nil }
        let stored = try SortedSetParts.decodeMemberBody(body)
        guard stored.member == member else {
            throw StorageError.corruptRecord(reason: "two sorted set members share an element name")
        }
        return stored.score
    }

    /// The members `query` names, in reply order.
    public func sortedSetQuery(_ header: SortedSetHeader, _ query: SortedSetQuery) throws(StorageError) -> [ScoredMember] {
        try sortedSetTree(header).query(query)
    }

    /// How many members `range` covers (ZCOUNT, ZLEXCOUNT), without reading them.
    public func sortedSetCount(_ header: SortedSetHeader, _ range: SortedSetRange) throws(StorageError) -> UInt64 {
        UInt64(try sortedSetTree(header).ranks(of: SortedSetQuery(range)).count)
    }

    /// The members at `ranks` (within `0..<count`), in order.
    public func sortedSetEntries(_ header: SortedSetHeader, _ ranks: Range<UInt64>) throws(StorageError) -> [ScoredMember] {
        try sortedSetTree(header).entries(ranks)
    }

    /// The rank of `member` from the lowest score (or from the highest, `reverse`); `nil` when absent.
    public func sortedSetRank(_ header: SortedSetHeader, _ member: [UInt8], reverse: Bool) throws(StorageError) -> UInt64? {
        guard let score = try sortedSetScore(header, member) else { return nil }
        let rank = try sortedSetTree(header).rank(of: ScoredMember(score: score, member: member))
        return reverse ? header.count - 1 - rank : rank
    }

    /// Up to `limit` members in member-row (name) order from name `start` (inclusive), and the name after the
    /// last one when more may follow (ZSCAN: stable while members come and go).
    public func sortedSetPage(_ header: SortedSetHeader, from start: [UInt8], limit: Int) throws(StorageError)
        -> (entries: [ScoredMember], next: [UInt8]?)
    {
        var entries: [ScoredMember] = []
        var from = SortedSetParts.member(start)
        let end = [SortedSetParts.nodeTag]
        while entries.count < limit + 1 {
            let wanted = min(Self.elementBatch, limit + 1 - entries.count)
            let batch = try elementRows(of: header.generation, from: from, to: end, limit: wanted)
            for row in batch { entries.append(try SortedSetParts.decodeMemberBody(row.body)) }
            guard batch.count == wanted, let last = batch.last else { break }
            from = last.part + [0]
        }
        guard entries.count > limit else { return (entries, nil) }
        let next = try elementIndexes.index(header.indexKeyID).name(entries[limit].member)
        return (Array(entries.prefix(limit)), next)
    }
}

/// An input of ZUNION, ZINTER and ZDIFF: a sorted set, or a set whose members all score 1.
public enum ScoredSource: Hashable, Sendable {
    case set(SetHeader)
    case sortedSet(SortedSetHeader)

    var count: UInt64 {
        switch self {
        case .set(let header): return header.count
        case .sortedSet(let header): return header.count
        }
    }
}

/// ZUNION, ZINTER and ZDIFF over inputs read through any ``ElementRows``.
public enum SortedSetAlgebra {
    /// Every member of `source` with its score.
    static func members<Rows: ElementRows>(_ source: ScoredSource, in rows: Rows) throws(StorageError) -> [ScoredMember] {
        switch source {
        case .set(let header): return try rows.setMembers(header).map { ScoredMember(score: 1, member: $0) }
        case .sortedSet(let header): return try rows.sortedSetEntries(header, 0..<header.count)
        }
    }

    static func score<Rows: ElementRows>(_ member: [UInt8], in source: ScoredSource, _ rows: Rows) throws(StorageError)
        -> Double?
    {
        switch source {
        case .set(let header): return try rows.setContains(header, member) ? 1 : nil
        case .sortedSet(let header): return try rows.sortedSetScore(header, member)
        }
    }

    /// A weighted score; NaN (0 × inf) counts as 0, as Redis counts it.
    private static func weighted(_ score: Double, _ weight: Double) -> Double {
        let product = score * weight
        return product.isNaN ? 0 : product
    }

    /// The combination in score order; `nil` sources are missing keys. `weights` (one per source) apply to
    /// union and intersection.
    public static func combine<Rows: ElementRows>(
        _ operation: SortedSetOperation, _ sources: [ScoredSource?], weights: [Double]?, aggregate: ScoreAggregate,
        in rows: Rows
    ) throws(StorageError) -> [ScoredMember] {
        let weights = weights ?? Array(repeating: 1, count: sources.count)
        var result: [ScoredMember] = []
        switch operation {
        case .union:
            var scores: [[UInt8]: Double] = [:]
            var order: [[UInt8]] = []
            for (source, weight) in zip(sources, weights) {
                guard let source else { continue }
                for entry in try members(source, in: rows) {
                    let score = weighted(entry.score, weight)
                    if let existing = scores[entry.member] {
                        scores[entry.member] = aggregate.combine(existing, score)
                    } else {
                        scores[entry.member] = score
                        order.append(entry.member)
                    }
                }
            }
            result = order.map { ScoredMember(score: scores[$0]!, member: $0) }
        case .intersection:
            guard !sources.isEmpty, !sources.contains(where: { $0 == nil }) else { return [] }
            let inputs = zip(sources.compactMap { $0 }, weights).sorted { $0.0.count < $1.0.count }
            for entry in try members(inputs[0].0, in: rows) {
                var score = weighted(entry.score, inputs[0].1)
                var everywhere = true
                for (other, weight) in inputs.dropFirst() {
                    guard let found = try self.score(entry.member, in: other, rows) else {
                        everywhere = false
                        break
                    }
                    score = aggregate.combine(score, found * weight)
                }
                if everywhere { result.append(ScoredMember(score: score, member: entry.member)) }
            }
        case .difference:
            guard let first = sources.first, let first else { return [] }
            for entry in try members(first, in: rows) {
                var elsewhere = false
                for case let other? in sources.dropFirst() where try score(entry.member, in: other, rows) != nil {
                    elsewhere = true
                    break
                }
                if !elsewhere { result.append(entry) }
            }
        }
        return result.sorted()
    }

    /// How many members the intersection holds, stopping at `limit` (0: no limit) (ZINTERCARD).
    public static func intersectionCount<Rows: ElementRows>(_ sources: [ScoredSource?], limit: Int64, in rows: Rows)
        throws(StorageError) -> Int64
    {
        guard !sources.isEmpty, !sources.contains(where: { $0 == nil }) else { return 0 }
        let inputs = sources.compactMap { $0 }.sorted { $0.count < $1.count }
        var count: Int64 = 0
        for entry in try members(inputs[0], in: rows) {
            var everywhere = true
            for other in inputs.dropFirst() where try score(entry.member, in: other, rows) == nil {
                everywhere = false
                break
            }
            if everywhere {
                count += 1
                if limit > 0, count >= limit { break }
            }
        }
        return count
    }
}
