import KV
import RESP
import Storage

/// Answers read-only commands with Redis's replies, from the store (``KVReader``) or from a transaction being
/// applied (``TransactionContext``).
public struct ReadEvaluator<View: KeyValueView> {
    public let reader: View
    public let cursors: ScanCursors
    /// Keys fetched per store scan when a command walks the keyspace (KEYS, DBSIZE).
    static var walkBatchKeys: Int { 1_000 }

    /// This node's running read-only scripts (SCRIPT KILL reaches them); nil inside an entry being applied.
    public let scripts: RunningScripts?

    public init(reader: View, cursors: ScanCursors, scripts: RunningScripts? = nil) {
        self.reader = reader
        self.cursors = cursors
        self.scripts = scripts
    }

    /// Evaluates `command` for a reader whose clock reads `nowMillis`.
    public func evaluate(_ command: ReadCommand, nowMillis now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .inDatabase(let database, let command):
            return try ReadEvaluator(reader: reader.inDatabase(database), cursors: cursors, scripts: scripts)
                .evaluate(command, nowMillis: now)
        case .script(let command):
            return try ScriptEngine(parser: RedisCommandParser(), cursors: cursors, running: scripts)
                .read(command, view: reader, nowMillis: now)
        case .get(let key):
            return try string(key, now) { .bulkString($0) } ?? .null
        case .multiGet(let keys):
            return .array(try keys.map { (key) throws(StorageError) in
                guard let entry = try reader.lookup(key, nowMillis: now), case .string(let bytes) = entry.value else {
                    return .null
                }
                return .bulkString(bytes)
            })
        case .stringLength(let key):
            return try string(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .bitField(let key, let operations):
            var bytes: [UInt8] = []
            if let entry = try reader.lookup(key, nowMillis: now) {
                guard case .string(let existing) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
                bytes = existing
            }
            return .array(BitField.run(operations, on: &bytes).map { $0.map(RESPValue.integer) ?? .null })
        case .hyperLogLogCount(let keys):
            var union = HyperLogLog()
            for key in keys {
                guard let entry = try reader.lookup(key, nowMillis: now) else { continue }
                guard case .string(let bytes) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
                guard let sketch = HyperLogLog(bytes) else { return .error(HyperLogLog.notAHyperLogLog) }
                union.merge(sketch)
            }
            return .integer(Int64(union.count))
        case .longestCommonSubsequence(let first, let second, let reply, let refusal):
            var strings: [[UInt8]] = []
            for key in [first, second] {
                guard let entry = try reader.lookup(key, nowMillis: now) else { strings.append([]); continue }
                guard case .string(let bytes) = entry.value else {
                    return .error("ERR The specified keys must contain string values")
                }
                strings.append(bytes)
            }
            if let refusal { return .error(refusal) }
            return LongestCommonSubsequence.answer(strings[0], strings[1], reply)
        case .getRange(let key, let start, let end):
            return try string(key, now) { .bulkString(Self.range($0, start, end)) } ?? .bulkString([])
        case .getBit(let key, let offset):
            return try string(key, now) { .integer(BitReads.bit($0, at: offset)) } ?? .integer(0)
        case .bitCount(let key, let range, let refusal):
            return try string(key, now) { refusal.map(RESPValue.error) ?? .integer(BitReads.count($0, range)) }
                ?? .integer(0)
        case .bitPosition(let key, let bit, let start, let end, let inBits, let refusal):
            return try string(key, now) { bytes in
                refusal.map(RESPValue.error)
                    ?? .integer(BitReads.position(bytes, of: bit, start: start, end: end, inBits: inBits))
            } ?? .integer(bit ? -1 : 0)
        case .timeToLive(let key, let milliseconds):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .integer(-2) }
            guard entry.expireAtMillis != 0 else { return .integer(-1) }
            let remaining = Int64(entry.expireAtMillis - now)
            return .integer(milliseconds ? remaining : (remaining + 500) / 1000)
        case .expireTime(let key, let milliseconds):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .integer(-2) }
            guard entry.expireAtMillis != 0 else { return .integer(-1) }
            let deadline = Int64(clamping: entry.expireAtMillis)
            return .integer(milliseconds ? deadline : (deadline + 500) / 1000)
        case .type(let key):
            return .simpleString(try reader.lookup(key, nowMillis: now)?.value.typeName ?? "none")
        case .exists(let keys):
            var count: Int64 = 0
            for key in keys where try reader.lookup(key, nowMillis: now) != nil { count += 1 }
            return .integer(count)
        case .keys(let pattern):
            return .array(try walk(now).filter { GlobPattern.matches(pattern, $0) }.map { .bulkString($0) })
        case .scan(let cursor, let pattern, let count, let type):
            return try scan(cursor: cursor, pattern: pattern, count: count, type: type, now: now)
        case .randomKey:
            return try randomKey(now).map(RESPValue.bulkString) ?? .null
        case .object(let subcommand, let key):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .null }
            switch subcommand {
            case .encoding:
                if case .set(let header) = entry.value { return .bulk(try setEncoding(header)) }
                if case .hash(let header) = entry.value { return .bulk(try hashEncoding(header)) }
                if case .sortedSet(let header) = entry.value { return .bulk(try sortedSetEncoding(header)) }
                return .bulkString(Array(Self.encodingName(entry.value).utf8))
            case .refcount: return .integer(1)
            case .idletime: return .integer(0)
            case .freq:
                return .error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
                    + "note that when switching between policies at runtime LRU and LFU data will take some time "
                    + "to adjust.")
            }
        case .databaseSize:
            return .integer(Int64(try walk(now).count))
        case .keyspaceSummary, .memoryUsage:
            return try evaluateServer(command, now)
        case .aclUsers:
            return .array(try reader.allScriptRows(from: ScriptRows.aclUsersStart, to: ScriptRows.aclUsersEnd).map {
                .array([.bulkString($0.row), .bulkString($0.body)])
            })
        case .listLength, .listRange, .listIndex, .listPosition:
            return try evaluateList(command, now)
        case .setIsMember, .setAreMembers, .setCardinality, .setMembers, .setRandomMember, .setCombination,
             .setIntersectionCardinality, .setScan:
            return try evaluateSet(command, now)
        case .sortedSetScore, .sortedSetScores, .sortedSetCardinality, .sortedSetCount, .sortedSetRank,
             .sortedSetRange, .sortedSetRandomMember, .sortedSetCombination, .sortedSetIntersectionCardinality,
             .sortedSetScan, .sortedSetRefusal:
            return try evaluateSortedSet(command, now)
        case .streamInfo(let key, let info):
            return try streamInfo(key, info, now)
        case .streamLength, .streamRange, .streamRead, .streamResolve, .streamRefusal, .streamPending, .streamGroupRefusal:
            return try evaluateStream(command, now)
        default:
            return try evaluateHash(command, now)
        }
    }

    private func evaluateHash(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .hashGet(let key, let field):
            return try hash(key, now) { (header) throws(StorageError) in
                try reader.hashValue(header, field).map(RESPValue.bulkString) ?? .null
            } ?? .null
        case .hashMultiGet(let key, let names):
            let answer = try hash(key, now) { (header) throws(StorageError) in
                .array(try names.map { (name) throws(StorageError) in
                    try reader.hashValue(header, name).map(RESPValue.bulkString) ?? .null
                })
            }
            return answer ?? .array(names.map { _ in .null })
        case .hashGetAll(let key):
            return try hash(key, now) { (header) throws(StorageError) in
                .map(try reader.hashFields(header).map { .init(.bulkString($0.field), .bulkString($0.value)) })
            } ?? .map([])
        case .hashLength(let key):
            return try hash(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .hashExists(let key, let field):
            return try hash(key, now) { (header) throws(StorageError) in
                .integer(try reader.hashValue(header, field) == nil ? 0 : 1)
            } ?? .integer(0)
        case .hashFieldLength(let key, let field):
            return try hash(key, now) { (header) throws(StorageError) in
                .integer(Int64(try reader.hashValue(header, field)?.count ?? 0))
            } ?? .integer(0)
        case .hashScan(let key, let cursor, let pattern, let count, let noValues):
            let resume = cursors.resumeKey(for: cursor)
            let answer = try hash(key, now) { (header) throws(StorageError) in
                // A small hash comes back whole whatever the cursor says, as Redis answers a listpack hash.
                let small = header.count <= Self.smallHashFields
                guard let start = small ? [] : resume else { return .error("ERR invalid cursor") }
                let limit = small ? Int(header.count) : max(count, 1)
                let page = try reader.rowPage(header.generation, from: start, limit: limit)
                let next = page.next.map { cursors.open(resumeAt: $0) } ?? 0
                let fields = try page.rows.map { (row) throws(StorageError) in try HashField.decode(row.body) }
                    .filter { pattern == nil || GlobPattern.matches(pattern!, $0.field) }
                let items = fields.flatMap { noValues ? [RESPValue.bulkString($0.field)]
                                                      : [.bulkString($0.field), .bulkString($0.value)] }
                return .array([.bulk(String(next)), .array(items)])
            }
            return answer ?? .array([.bulkString(Array("0".utf8)), .array([])])
        case .hashRandomField(let key, let count, let withValues):
            let answer = try hash(key, now) { (header) throws(StorageError) in
                Self.randomFields(try reader.hashFields(header), count: count, withValues: withValues)
            }
            return answer ?? (count == nil ? .null : .array([]))
        case .hashKeys(let key):
            return try hash(key, now) { (header) throws(StorageError) in
                .array(try reader.hashFields(header).map { .bulkString($0.field) })
            } ?? .array([])
        case .hashValues(let key):
            return try hash(key, now) { (header) throws(StorageError) in
                .array(try reader.hashFields(header).map { .bulkString($0.value) })
            } ?? .array([])
        default:
            preconditionFailure("every non-hash read command is handled by evaluate(_:nowMillis:)")
        }
    }

    /// Applies `body` to the string at `key`; `nil` when missing; WRONGTYPE for another type.
    private func string(_ key: [UInt8], _ now: UInt64, _ body: ([UInt8]) -> RESPValue) throws(StorageError)
        -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .string(let bytes) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return body(bytes)
    }

    private func hash(_ key: [UInt8], _ now: UInt64, _ body: (HashHeader) throws(StorageError) -> RESPValue)
        throws(StorageError) -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .hash(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return try body(header)
    }

    /// HRANDFIELD: one field; `count > 0` distinct fields (all of them when the hash is smaller); `count < 0`
    /// `-count` fields that may repeat. With values, each field is followed by its value (RESP3: pairs).
    static func randomFields(_ fields: [(field: [UInt8], value: [UInt8])], count: Int64?, withValues: Bool)
        -> RESPValue
    {
        guard let count else { return fields.randomElement().map { RESPValue.bulkString($0.field) } ?? .null }
        let picked: [(field: [UInt8], value: [UInt8])]
        if count >= Int64(fields.count) {
            picked = fields  // the whole hash, as Redis answers it (in its own order)
        } else if count >= 0 {
            picked = Array(fields.shuffled().prefix(Int(count)))
        } else {
            picked = (0..<Int(min(-count, Int64(maxRandomFields)))).compactMap { _ in fields.randomElement() }
        }
        guard withValues else { return .array(picked.map { .bulkString($0.field) }) }
        return .pairs(picked.map { RESPValue.Pair(.bulkString($0.field), .bulkString($0.value)) })
    }

    /// The size up to which HSCAN answers a whole hash at once, as Redis does for listpack hashes.
    static var smallHashFields: UInt64 { 128 }

    /// The most fields a negative HRANDFIELD count returns (the reply is built in memory).
    static var maxRandomFields: Int { 1_000_000 }

    /// What OBJECT ENCODING answers: the encoding redis-server would use for the same value.
    static func encodingName(_ value: RedisValue) -> String {
        switch value {
        case .string(let bytes):
            if bytes.count <= 20, RedisNumber.parseInteger(bytes) != nil { return "int" }
            return bytes.count <= 44 ? "embstr" : "raw"
        case .hash:
            return "hashtable"
        case .list:
            return "quicklist"
        case .set:
            return "hashtable"
        case .sortedSet:
            return "skiplist"
        case .stream:
            return "stream"
        }
    }

    /// What OBJECT ENCODING answers for a hash, as Redis encodes one built by HSET: listpack while it holds
    /// at most 128 fields of at most 64 bytes (names and values), hashtable otherwise.
    func hashEncoding(_ header: HashHeader) throws(StorageError) -> String {
        guard header.count <= 128 else { return "hashtable" }
        let small = try reader.hashFields(header).allSatisfy { $0.field.count <= 64 && $0.value.count <= 64 }
        return small ? "listpack" : "hashtable"
    }

    /// Redis GETRANGE (``RedisRange``).
    static func range(_ bytes: [UInt8], _ start: Int64, _ end: Int64) -> [UInt8] {
        guard let range = RedisRange.resolve(start, end, length: Int64(bytes.count), invertedNegativesAreEmpty: true)
        else { return [] }
        return Array(bytes[Int(range.lowerBound)...Int(range.upperBound)])
    }

    /// Every live key, in order.
    func walk(_ now: UInt64) throws(StorageError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var start: [UInt8] = []
        while true {
            let batch = try reader.keys(from: start, limit: Self.walkBatchKeys, nowMillis: now)
            keys.append(contentsOf: batch)
            guard batch.count == Self.walkBatchKeys, let last = batch.last else { return keys }
            start = last + [0]
        }
    }

    /// A live key chosen at random (uniform over the byte space rather than over keys): the first key at or
    /// after a random 8-byte point, or the first key when none follows it.
    private func randomKey(_ now: UInt64) throws(StorageError) -> [UInt8]? {
        let point = withUnsafeBytes(of: UInt64.random(in: .min ... .max).bigEndian) { Array($0) }
        if let key = try reader.keys(from: point, limit: 1, nowMillis: now).first { return key }
        return try reader.keys(from: [], limit: 1, nowMillis: now).first
    }

    private func scan(cursor: UInt64, pattern: [UInt8]?, count: Int, type: String?, now: UInt64)
        throws(StorageError) -> RESPValue
    {
        guard let start = cursors.resumeKey(for: cursor) else { return .error("ERR invalid cursor") }
        let batch = try reader.keys(from: start, limit: count + 1, nowMillis: now)
        let page = batch.prefix(count)
        var next: UInt64 = 0
        if batch.count > count, let last = page.last { next = cursors.open(resumeAt: last + [0]) }
        var matching = page.filter { pattern == nil || GlobPattern.matches(pattern!, $0) }
        if let type {
            var typed: [[UInt8]] = []
            for key in matching where try reader.lookup(key, nowMillis: now)?.value.typeName == type { typed.append(key) }
            matching = typed
        }
        return .array([.bulk(String(next)), .array(matching.map { .bulkString($0) })])
    }
}

extension ReadEvaluator: Sendable where View: Sendable {}
