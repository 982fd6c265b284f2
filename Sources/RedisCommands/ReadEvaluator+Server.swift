import KV
import RESP
import Storage

extension ReadEvaluator {
    /// Per-element bookkeeping MEMORY USAGE adds to the bytes of each key, field, member and value: what a row
    /// costs beyond its payload here (row key prefix, version, envelope header), rounded.
    static var memoryOverheadPerElement: Int { 48 }

    /// INFO keyspace and MEMORY USAGE.
    func evaluateServer(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .keyspaceSummary:
            // Walks every key of the database: INFO keyspace costs what DBSIZE costs, plus a lookup per key.
            var keys: Int64 = 0, expires: Int64 = 0, remaining: UInt64 = 0
            for key in try walk(now) {
                guard let entry = try reader.lookup(key, nowMillis: now) else { continue }
                keys += 1
                if entry.expireAtMillis != 0 {
                    expires += 1
                    remaining += entry.expireAtMillis > now ? entry.expireAtMillis - now : 0
                }
            }
            return .array([.integer(keys), .integer(expires), .integer(expires == 0 ? 0 : Int64(remaining / UInt64(expires)))])
        case .memoryUsage(let key):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .null }
            let whole: ReadCommand
            switch entry.value {
            case .string: whole = .get(key)
            case .hash: whole = .hashGetAll(key)
            case .list: whole = .listRange(key, start: 0, stop: -1)
            case .set: whole = .setMembers(key)
            case .sortedSet: whole = .sortedSetRange(key, SortedSetQuery(.rank(start: 0, stop: -1)), withScores: true)
            case .stream: whole = .streamRange(key, start: .zero, end: .max, reverse: false, count: 0)
            }
            let (bytes, elements) = Self.payload(of: try evaluate(whole, nowMillis: now))
            return .integer(Int64(key.count + bytes + Self.memoryOverheadPerElement * (1 + elements)))
        default:
            preconditionFailure("not a server read: \(command)")
        }
    }

    /// The bytes of every string in a reply and how many there are (integers and doubles count 8 bytes).
    static func payload(of reply: RESPValue) -> (bytes: Int, elements: Int) {
        switch reply {
        case .bulkString(let bytes): return (bytes.count, 1)
        case .simpleString(let text), .error(let text): return (text.utf8.count, 1)
        case .integer, .double, .boolean: return (8, 1)
        case .array(let items), .set(let items), .push(let items), .sequence(let items):
            var bytes = 0, elements = 0
            for item in items {
                let (itemBytes, itemElements) = payload(of: item)
                bytes += itemBytes
                elements += itemElements
            }
            return (bytes, elements)
        case .map(let pairs), .pairs(let pairs), .pairArrays(let pairs):
            return payload(of: .array(pairs.flatMap { [$0.key, $0.value] }))
        case .null, .nullArray: return (0, 0)
        }
    }
}
