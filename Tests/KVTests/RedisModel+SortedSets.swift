import KV
import RESP

/// The model's sorted sets: a dictionary of scores, sorted when asked.
extension RedisModel {
    /// The live sorted set at `key` (empty when missing); `nil` when the key holds another type.
    func scores(_ key: [UInt8], _ now: UInt64) -> [[UInt8]: Double]? {
        guard let item = live(key, now) else { return [:] }
        guard case .sortedSet = item.value else { return nil }
        return item.scores
    }

    static func ordered(_ scores: [[UInt8]: Double]) -> [ScoredMember] {
        scores.map { ScoredMember(score: $0.value, member: $0.key) }.sorted()
    }

    mutating func storeSortedSet(_ key: [UInt8], _ scores: [[UInt8]: Double], _ now: UInt64, keepTTL: Bool = true) {
        guard !scores.isEmpty else { items[key] = nil; return }
        let header = SortedSetHeader(generation: 0, indexKeyID: 0, count: UInt64(scores.count), root: 1, height: 1,
                                     nextNode: 2)
        let expireAt = keepTTL ? live(key, now)?.expireAt ?? 0 : 0
        items[key] = Item(value: .sortedSet(header), expireAt: expireAt, scores: scores)
    }

    /// The members a query names, written out plainly over the sorted array.
    static func select(_ scores: [[UInt8]: Double], _ query: SortedSetQuery) -> [ScoredMember] {
        let order = ordered(scores)
        var picked: [ScoredMember]
        switch query.range {
        case .rank(let start, let stop):
            let forward = query.reverse ? Array(order.reversed()) : order
            let count = Int64(forward.count)
            let first = max(start < 0 ? start + count : start, 0), last = min(stop < 0 ? stop + count : stop, count - 1)
            return first <= last ? Array(forward[Int(first)...Int(last)]) : []
        case .score(let min, let max):
            picked = order.filter { (min.exclusive ? $0.score > min.value : $0.score >= min.value)
                && (max.exclusive ? $0.score < max.value : $0.score <= max.value) }
        case .lex(let min, let max):
            func above(_ member: [UInt8]) -> Bool {
                switch min {
                case .minimum: return true
                case .maximum: return false
                case .inclusive(let bound): return !member.lexicographicallyPrecedes(bound)
                case .exclusive(let bound): return bound.lexicographicallyPrecedes(member)
                }
            }
            func below(_ member: [UInt8]) -> Bool {
                switch max {
                case .minimum: return false
                case .maximum: return true
                case .inclusive(let bound): return !bound.lexicographicallyPrecedes(member)
                case .exclusive(let bound): return member.lexicographicallyPrecedes(bound)
                }
            }
            picked = order.filter { above($0.member) && below($0.member) }
        }
        if query.reverse { picked.reverse() }
        if let (offset, count) = query.limit {
            guard offset >= 0 else { return [] }
            picked = Array(picked.dropFirst(Int(offset)))
            if count >= 0 { picked = Array(picked.prefix(Int(count))) }
        }
        return picked
    }

    mutating func applySortedSet(_ command: SortedSetCommand, now: UInt64) -> CommandResult {
        switch command {
        case .add(let key, let entries, let options):
            guard var scores = scores(key, now) else { return .error(.wrongType) }
            var added: Int64 = 0, changed: Int64 = 0
            var result: Double?
            for entry in entries {
                result = nil
                var score = entry.score
                if let old = scores[entry.member] {
                    if options.contains(.onlyNew) { continue }
                    if options.contains(.increment) { score += old }
                    if score.isNaN { return .error(.scoreNotANumber) }
                    if options.contains(.greater) && score <= old || options.contains(.less) && score >= old { continue }
                    if score != old { changed += 1 }
                } else {
                    if options.contains(.onlyExisting) { continue }
                    added += 1
                }
                scores[entry.member] = score == 0 ? 0 : score
                result = score == 0 ? 0 : score
            }
            if added + changed > 0 { storeSortedSet(key, scores, now) }
            if options.contains(.increment) { return result.map { .reply(.double($0)) } ?? .null }
            return .integer(options.contains(.changed) ? added + changed : added)
        case .remove(let key, let members):
            guard var scores = scores(key, now) else { return .error(.wrongType) }
            let before = scores.count
            for member in members { scores[member] = nil }
            if scores.count != before { storeSortedSet(key, scores, now) }
            return .integer(Int64(before - scores.count))
        case .removeRange(let key, let range):
            guard var scores = scores(key, now) else { return .error(.wrongType) }
            let doomed = Self.select(scores, SortedSetQuery(range))
            for entry in doomed { scores[entry.member] = nil }
            if !doomed.isEmpty { storeSortedSet(key, scores, now) }
            return .integer(Int64(doomed.count))
        case .pop(let keys, let highest, let count, let form):
            for key in keys {
                guard let item = live(key, now) else { continue }
                guard case .sortedSet = item.value else { return .error(.wrongType) }
                if count == 0 { return .reply(.array([])) }
                var scores = item.scores
                let order = Self.ordered(scores)
                let taken = highest ? Array(order.suffix(Int(count ?? 1)).reversed()) : Array(order.prefix(Int(count ?? 1)))
                for entry in taken { scores[entry.member] = nil }
                storeSortedSet(key, scores, now)
                let pairs = taken.map { RESPValue.Pair(.bulkString($0.member), .double($0.score)) }
                switch form {
                case .single: return .reply(count == nil ? .array([pairs[0].key, pairs[0].value]) : .pairs(pairs))
                case .multi: return .reply(.array([.bulkString(key), .array(pairs.map { .array([$0.key, $0.value]) })]))
                case .keyed: return .reply(.array([.bulkString(key), pairs[0].key, pairs[0].value]))
                }
            }
            return .reply(form == .single ? .array([]) : .nullArray)
        case .rangeStore(let destination, let source, let query):
            guard let scores = scores(source, now) else { return .error(.wrongType) }
            let picked = Self.select(scores, query)
            items[destination] = nil
            storeSortedSet(destination, Dictionary(uniqueKeysWithValues: picked.map { ($0.member, $0.score) }), now,
                           keepTTL: false)
            return .integer(Int64(picked.count))
        case .store(let operation, let destination, let keys, let weights, let aggregate):
            var sources: [[[UInt8]: Double]] = []
            for key in keys {
                guard let item = live(key, now) else { sources.append([:]); continue }
                switch item.value {
                case .set: sources.append(Dictionary(uniqueKeysWithValues: item.members.map { ($0, 1.0) }))
                case .sortedSet: sources.append(item.scores)
                default: return .error(.wrongType)
                }
            }
            let weighted = sources.enumerated().map { index, scores in
                scores.mapValues { (score: Double) -> Double in
                    let product = score * (weights?[index] ?? 1)
                    return product.isNaN ? 0 : product
                }
            }
            func combine(_ a: Double, _ b: Double) -> Double {
                switch aggregate {
                case .sum: return (a + b).isNaN ? 0 : a + b
                case .min: return Swift.min(a, b)
                case .max: return Swift.max(a, b)
                }
            }
            var result: [[UInt8]: Double] = [:]
            switch operation {
            case .union:
                for source in weighted {
                    for (member, score) in source { result[member] = result[member].map { combine($0, score) } ?? score }
                }
            case .intersection:
                for (member, score) in weighted[0] where weighted.allSatisfy({ $0[member] != nil }) {
                    result[member] = weighted.dropFirst().reduce(score) { combine($0, $1[member]!) }
                }
            case .difference:
                result = sources[0].filter { member, _ in !sources.dropFirst().contains { $0[member] != nil } }
            }
            items[destination] = nil
            storeSortedSet(destination, result, now, keepTTL: false)
            return .integer(Int64(result.count))
        }
    }
}
