import KV
import RESP
import Storage

extension ReadEvaluator {
    func evaluateStream(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .streamLength(let key):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .integer(0) }
            guard case .stream(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
            return .integer(Int64(header.count))
        case .streamRange(let key, let start, let end, let reverse, let count):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return .array([]) }
            guard case .stream(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
            if count == 0 { return .nullArray }
            let entries = try reader.streamEntries(header, from: start, to: end, reverse: reverse,
                                                   count: count < 0 ? nil : Int(clamping: count))
            return .array(entries.map(Self.reply))
        case .streamRead(let keys, let after, let count):
            let streams: [(header: StreamHeader?, after: StreamID)]
            switch try resolve(keys, after, now) {
            case .failure(let refusal): return refusal.reply
            case .success(let resolved): streams = resolved
            }
            var replies: [RESPValue.Pair] = []
            for (key, (header, id)) in zip(keys, streams) {
                // `$` without BLOCK reads after the last entry: nothing.
                guard let header, let start = id.next, header.lastID > id else { continue }
                let entries = try reader.streamEntries(header, from: start, to: .max, count: count == 0 ? nil : count)
                if !entries.isEmpty { replies.append(.init(.bulkString(key), .array(entries.map(Self.reply)))) }
            }
            return replies.isEmpty ? .nullArray : .pairArrays(replies)
        case .streamResolve(let keys, let after):
            switch try resolve(keys, after, now) {
            case .failure(let refusal): return refusal.reply
            case .success(let resolved): return .array(resolved.map { .bulk($0.after.description) })
            }
        case .streamRefusal(let key, let missing, let refusal):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return missing }
            guard case .stream = entry.value else { return .error(CommandError.wrongType.redisMessage) }
            return .error(refusal)
        default:
            preconditionFailure("only stream read commands reach evaluateStream")
        }
    }

    /// An entry as XRANGE and XREAD answer it: `[id, [field, value, …]]`.
    static func reply(_ entry: StreamEntry) -> RESPValue {
        .array([.bulk(entry.id.description), .array(entry.fields.map(RESPValue.bulkString))])
    }

    /// The streams at `keys` (nil for missing keys) with the ids to read after (`$`: the last id, 0-0 for a
    /// missing key), checked key by key as Redis does: the key's type, then its id.
    private func resolve(_ keys: [[UInt8]], _ after: [StreamReadID], _ now: UInt64) throws(StorageError)
        -> Result<[(header: StreamHeader?, after: StreamID)], RESPRefusal>
    {
        var resolved: [(header: StreamHeader?, after: StreamID)] = []
        for (key, id) in zip(keys, after) {
            var header: StreamHeader?
            if let entry = try reader.lookup(key, nowMillis: now) {
                guard case .stream(let found) = entry.value else {
                    return .failure(RESPRefusal(.error(CommandError.wrongType.redisMessage)))
                }
                header = found
            }
            switch id {
            case .id(let explicit): resolved.append((header, explicit))
            case .latest: resolved.append((header, header?.lastID ?? .zero))
            case .invalid(let message): return .failure(RESPRefusal(.error(message)))
            }
        }
        return .success(resolved)
    }
}

/// A reply that ends a command early (a refusal), as an `Error` for `Result`.
struct RESPRefusal: Error {
    let reply: RESPValue
    init(_ reply: RESPValue) { self.reply = reply }
}
