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
            return .array(entries.map(\.reply))
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
                if !entries.isEmpty { replies.append(.init(.bulkString(key), .array(entries.map(\.reply)))) }
            }
            return replies.isEmpty ? .nullArray : .pairArrays(replies)
        case .streamResolve(let keys, let after):
            switch try resolve(keys, after, now) {
            case .failure(let refusal): return refusal.reply
            case .success(let resolved): return .array(resolved.map { .bulk($0.after.description) })
            }
        case .streamPending(let key, let group, let range):
            return try pending(key, group, range, now)
        case .streamGroupRefusal(let keys, let group, let missing, let refusal):
            for key in keys {
                var header: StreamHeader?
                if let entry = try reader.lookup(key, nowMillis: now) {
                    guard case .stream(let found) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
                    header = found
                }
                if header == nil, missing == .xgroup { return .error(StreamGroupErrors.missingKey) }
                guard let header, try reader.streamGroup(header, group) != nil else {
                    switch missing {
                    case .zero: return .integer(0)
                    case .noGroup: return .error(StreamGroupErrors.noSuchKeyOrGroup(key: key, group: group))
                    case .readGroup: return .error(StreamGroupErrors.noSuchKeyOrGroup(key: key, group: group, readGroup: true))
                    case .xgroup: return .error(StreamGroupErrors.noSuchGroup(key: key, group: group))
                    }
                }
            }
            return .error(refusal)
        case .streamRefusal(let key, let missing, let refusal):
            guard let entry = try reader.lookup(key, nowMillis: now) else { return missing }
            guard case .stream = entry.value else { return .error(CommandError.wrongType.redisMessage) }
            return .error(refusal)
        default:
            preconditionFailure("only stream read commands reach evaluateStream")
        }
    }

    private func pending(_ key: [UInt8], _ group: [UInt8], _ range: StreamPendingRange?, _ now: UInt64)
        throws(StorageError) -> RESPValue
    {
        var header: StreamHeader?
        if let entry = try reader.lookup(key, nowMillis: now) {
            guard case .stream(let found) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
            header = found
        }
        guard let header, let stored = try reader.streamGroup(header, group) else {
            return .error(StreamGroupErrors.noSuchKeyOrGroup(key: key, group: group))
        }
        guard let range else {
            let entries = try reader.pendingEntries(header, group, from: .zero, to: .max, limit: .max)
            guard let first = entries.first, let last = entries.last else { return .array([.integer(0), .null, .null, .nullArray]) }
            let consumers = stored.consumers.filter { $0.pending > 0 }
                .map { RESPValue.array([.bulkString($0.name), .bulk(String($0.pending))]) }
            return .array([.integer(Int64(entries.count)), .bulk(first.id.description), .bulk(last.id.description),
                           .array(consumers)])
        }
        if let consumer = range.consumer, stored.consumerIndex(consumer) == nil { return .array([]) }
        var replies: [RESPValue] = []
        var remaining = range.count
        for entry in try reader.pendingEntries(header, group, from: range.low, to: range.high, limit: .max) where remaining > 0 {
            if let consumer = range.consumer, entry.consumer != consumer { continue }
            let idle = now > entry.deliveredAt ? Int64(now - entry.deliveredAt) : 0
            if range.minimumIdle > 0, idle < range.minimumIdle { continue }
            replies.append(.array([.bulk(entry.id.description), .bulkString(entry.consumer), .integer(idle),
                                   .integer(Int64(entry.deliveries))]))
            remaining -= 1
        }
        return .array(replies)
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
