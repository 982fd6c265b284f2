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
            guard let streams = try streams(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            var replies: [RESPValue.Pair] = []
            for (key, (header, id)) in zip(keys, zip(streams, after)) {
                // `$` without BLOCK reads after the last entry: nothing.
                guard let header, let id, let start = id.next, header.lastID > id else { continue }
                let entries = try reader.streamEntries(header, from: start, to: .max, count: count == 0 ? nil : count)
                if !entries.isEmpty { replies.append(.init(.bulkString(key), .array(entries.map(Self.reply)))) }
            }
            return replies.isEmpty ? .nullArray : .pairArrays(replies)
        case .streamResolve(let keys, let after):
            guard let streams = try streams(keys, now) else { return .error(CommandError.wrongType.redisMessage) }
            return .array(zip(streams, after).map { header, id in
                .bulk((id ?? header?.lastID ?? .zero).description)
            })
        default:
            preconditionFailure("only stream read commands reach evaluateStream")
        }
    }

    /// An entry as XRANGE and XREAD answer it: `[id, [field, value, …]]`.
    static func reply(_ entry: StreamEntry) -> RESPValue {
        .array([.bulk(entry.id.description), .array(entry.fields.map(RESPValue.bulkString))])
    }

    /// The streams at `keys` (nil items for missing keys); nil when one holds another type.
    private func streams(_ keys: [[UInt8]], _ now: UInt64) throws(StorageError) -> [StreamHeader?]? {
        var headers: [StreamHeader?] = []
        for key in keys {
            guard let entry = try reader.lookup(key, nowMillis: now) else {
                headers.append(nil)
                continue
            }
            guard case .stream(let header) = entry.value else { return nil }
            headers.append(header)
        }
        return headers
    }
}
