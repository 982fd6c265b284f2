import KV
import RESP
import Storage

extension ReadEvaluator {
    func evaluateSet(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .setIsMember(let key, let member):
            return try set(key, now) { (header) throws(StorageError) in .integer(try reader.setContains(header, member) ? 1 : 0) }
                ?? .integer(0)
        case .setAreMembers(let key, let members):
            return try set(key, now) { (header) throws(StorageError) in
                .array(try members.map { (member) throws(StorageError) in .integer(try reader.setContains(header, member) ? 1 : 0) })
            } ?? .array(members.map { _ in .integer(0) })
        case .setCardinality(let key):
            return try set(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .setMembers(let key):
            return try set(key, now) { (header) throws(StorageError) in .set(try reader.setMembers(header).map(RESPValue.bulkString)) }
                ?? .set([])
        case .setRandomMember(let key, let count):
            return try set(key, now) { (header) throws(StorageError) in try randomMembers(header, count: count) }
                ?? (count == nil ? .null : .array([]))
        case .setCombination(let operation, let keys):
            guard let sources = try sets(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            return .set(try SetAlgebra.combine(operation, sources, in: reader).map(RESPValue.bulkString))
        case .setIntersectionCardinality(let keys, let limit):
            guard let sources = try sets(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            let count = try SetAlgebra.combine(.intersection, sources, in: reader).count
            return .integer(limit == 0 ? Int64(count) : min(Int64(count), limit))
        case .setScan(let key, let cursor, let pattern, let count):
            guard let start = cursors.resumeKey(for: cursor) else { return .error("ERR invalid cursor") }
            return try set(key, now) { (header) throws(StorageError) in
                let page = try reader.setPage(header, from: start, limit: max(count, 1))
                let next = page.next.map { cursors.open(resumeAt: $0) } ?? 0
                let members = page.members.filter { pattern == nil || GlobPattern.matches(pattern!, $0) }
                return .array([.bulk(String(next)), .array(members.map(RESPValue.bulkString))])
            } ?? .array([.bulk("0"), .array([])])
        default:
            preconditionFailure("only set read commands reach evaluateSet")
        }
    }

    /// Applies `body` to the set at `key`; `nil` when missing; WRONGTYPE for another type.
    private func set(_ key: [UInt8], _ now: UInt64, _ body: (SetHeader) throws(StorageError) -> RESPValue)
        throws(StorageError) -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .set(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return try body(header)
    }

    /// The sets at `keys` (`nil` items for missing keys); `nil` when one holds another type.
    private func sets(_ keys: [[UInt8]], _ now: UInt64) throws(StorageError) -> [SetHeader?]? {
        var sources: [SetHeader?] = []
        for key in keys {
            guard let entry = try reader.lookup(key, nowMillis: now) else { sources.append(nil); continue }
            guard case .set(let header) = entry.value else { return nil }
            sources.append(header)
        }
        return sources
    }

    /// SRANDMEMBER: one member; `count >= 0` distinct members (all of them when the set is smaller) as the
    /// run of names after a random point; `count < 0` that many members, each after its own random point.
    private func randomMembers(_ header: SetHeader, count: Int64?) throws(StorageError) -> RESPValue {
        func run(_ length: Int) throws(StorageError) -> [[UInt8]] {
            let point = (0..<ElementIndexes.nameByteCount).map { _ in UInt8.random(in: 0 ... .max) }
            return try reader.members(of: header, startingAt: point, count: length)
        }
        guard let count else { return .bulkString(try run(1)[0]) }
        if count >= 0 {
            if UInt64(count) >= header.count { return .array(try reader.setMembers(header).map(RESPValue.bulkString)) }
            return .array(try run(Int(count)).map(RESPValue.bulkString))
        }
        let wanted = Int(min(count.magnitude, UInt64(Self.maxRandomFields)))
        var picked: [RESPValue] = []
        picked.reserveCapacity(wanted)
        for _ in 0..<wanted { picked.append(.bulkString(try run(1)[0])) }
        return .array(picked)
    }

    /// What OBJECT ENCODING answers for a set, as Redis 7.0 encodes one built by SADD: intset while it holds at
    /// most 512 integers, hashtable otherwise.
    func setEncoding(_ header: SetHeader) throws(StorageError) -> String {
        guard header.count <= 512 else { return "hashtable" }
        let integers = try reader.setMembers(header).allSatisfy { member in
            member.count <= 20 && RedisNumber.parseInteger(member) != nil
        }
        return integers ? "intset" : "hashtable"
    }
}
