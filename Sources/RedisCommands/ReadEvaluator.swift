import KV
import RESP
import Storage

/// Answers read-only commands from the store, with Redis's replies.
public struct ReadEvaluator: Sendable {
    public let reader: KVReader
    public let cursors: ScanCursors
    /// Keys fetched per store scan when a command walks the keyspace (KEYS, DBSIZE).
    static let walkBatchKeys = 1_000

    public init(reader: KVReader, cursors: ScanCursors) {
        self.reader = reader
        self.cursors = cursors
    }

    /// Evaluates `command` for a reader whose clock reads `nowMillis`.
    public func evaluate(_ command: ReadCommand, nowMillis now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
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
        case .getRange(let key, let start, let end):
            return try string(key, now) { .bulkString(Self.range($0, start, end)) } ?? .bulkString([])
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
        case .scan(let cursor, let pattern, let count):
            return try scan(cursor: cursor, pattern: pattern, count: count, now: now)
        case .databaseSize:
            return .integer(Int64(try walk(now).count))
        default:
            return try evaluateHash(command, now)
        }
    }

    private func evaluateHash(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .hashGet(let key, let field):
            return try hash(key, now) { $0[field].map(RESPValue.bulkString) ?? .null } ?? .null
        case .hashMultiGet(let key, let names):
            let answer = try hash(key, now) { fields in
                .array(names.map { fields[$0].map(RESPValue.bulkString) ?? .null })
            }
            return answer ?? .array(names.map { _ in .null })
        case .hashGetAll(let key):
            return try hash(key, now) { fields in
                .map(Self.sortedFields(fields).map { .init(.bulkString($0), .bulkString(fields[$0]!)) })
            } ?? .map([])
        case .hashLength(let key):
            return try hash(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .hashExists(let key, let field):
            return try hash(key, now) { .integer($0[field] == nil ? 0 : 1) } ?? .integer(0)
        case .hashFieldLength(let key, let field):
            return try hash(key, now) { .integer(Int64($0[field]?.count ?? 0)) } ?? .integer(0)
        case .hashKeys(let key):
            return try hash(key, now) { .array(Self.sortedFields($0).map { .bulkString($0) }) } ?? .array([])
        case .hashValues(let key):
            return try hash(key, now) { fields in
                .array(Self.sortedFields(fields).map { .bulkString(fields[$0]!) })
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

    private func hash(_ key: [UInt8], _ now: UInt64, _ body: ([[UInt8]: [UInt8]]) -> RESPValue)
        throws(StorageError) -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .hash(let fields) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return body(fields)
    }

    private static func sortedFields(_ fields: [[UInt8]: [UInt8]]) -> [[UInt8]] {
        fields.keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Redis GETRANGE: negative indexes count from the end; the range is clamped; empty when inverted.
    static func range(_ bytes: [UInt8], _ start: Int64, _ end: Int64) -> [UInt8] {
        let length = Int64(bytes.count)
        guard length > 0 else { return [] }
        var first = start < 0 ? length + start : start
        var last = end < 0 ? length + end : end
        first = max(first, 0)
        last = min(max(last, 0), length - 1)
        guard first <= last else { return [] }
        return Array(bytes[Int(first)...Int(last)])
    }

    /// Every live key, in order.
    private func walk(_ now: UInt64) throws(StorageError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var start: [UInt8] = []
        while true {
            let batch = try reader.keys(from: start, limit: Self.walkBatchKeys, nowMillis: now)
            keys.append(contentsOf: batch)
            guard batch.count == Self.walkBatchKeys, let last = batch.last else { return keys }
            start = last + [0]
        }
    }

    private func scan(cursor: UInt64, pattern: [UInt8]?, count: Int, now: UInt64) throws(StorageError)
        -> RESPValue
    {
        guard let start = cursors.resumeKey(for: cursor) else { return .error("ERR invalid cursor") }
        let batch = try reader.keys(from: start, limit: count + 1, nowMillis: now)
        let page = batch.prefix(count)
        var next: UInt64 = 0
        if batch.count > count, let last = page.last { next = cursors.open(resumeAt: last + [0]) }
        let matching = page.filter { pattern == nil || GlobPattern.matches(pattern!, $0) }
        return .array([.bulk(String(next)), .array(matching.map { .bulkString($0) })])
    }
}
