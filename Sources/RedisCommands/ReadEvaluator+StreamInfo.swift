import KV
import RESP
import Storage

/// XINFO STREAM / GROUPS / CONSUMERS.
public enum StreamInfoCommand: Hashable, Sendable {
    /// STREAM key [FULL [COUNT n]] (`full` nil without FULL; its count 0 means every entry).
    case stream(full: Int?)
    case groups
    case consumers(group: [UInt8])
}

extension ReadEvaluator {
    func streamInfo(_ key: [UInt8], _ command: StreamInfoCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return .error("ERR no such key") }
        guard case .stream(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        let groups = try streamGroups(header)
        switch command {
        case .groups:
            var replies: [RESPValue] = []
            for group in groups {
                replies.append(.map([
                    RESPValue.Pair(.bulk("name"), .bulkString(group.name)),
                    RESPValue.Pair(.bulk("consumers"), .integer(Int64(group.consumers.count))),
                    RESPValue.Pair(.bulk("pending"), .integer(Int64(group.pending))),
                    RESPValue.Pair(.bulk("last-delivered-id"), .bulk(group.lastDelivered.description)),
                    RESPValue.Pair(.bulk("entries-read"), group.entriesRead.map { .integer(Int64(clamping: $0)) } ?? .null),
                    RESPValue.Pair(.bulk("lag"), try lag(header, group).map { .integer(Int64(clamping: $0)) } ?? .null),
                ]))
            }
            return .array(replies)
        case .consumers(let name):
            guard let group = groups.first(where: { $0.name == name }) else {
                return .error(StreamGroupErrors.noSuchGroup(key: key, group: name))
            }
            return .array(group.consumers.map { consumer in
                .map([
                    RESPValue.Pair(.bulk("name"), .bulkString(consumer.name)),
                    RESPValue.Pair(.bulk("pending"), .integer(Int64(consumer.pending))),
                    RESPValue.Pair(.bulk("idle"), .integer(now > consumer.seenAt ? Int64(now - consumer.seenAt) : 0)),
                ])
            })
        case .stream(let full):
            let first = try reader.streamEntries(header, from: .zero, to: .max, count: 1).first
            var pairs: [RESPValue.Pair] = [
                RESPValue.Pair(.bulk("length"), .integer(Int64(header.count))),
                RESPValue.Pair(.bulk("radix-tree-keys"), .integer(Int64((header.count + 99) / 100))),
                RESPValue.Pair(.bulk("radix-tree-nodes"), .integer(Int64((header.count + 99) / 100 + 1))),
                RESPValue.Pair(.bulk("last-generated-id"), .bulk(header.lastID.description)),
                RESPValue.Pair(.bulk("max-deleted-entry-id"), .bulk(header.maxDeletedID.description)),
                RESPValue.Pair(.bulk("entries-added"), .integer(Int64(clamping: header.entriesAdded))),
                RESPValue.Pair(.bulk("recorded-first-entry-id"), .bulk((first?.id ?? .zero).description)),
            ]
            guard let full else {
                let last: StreamEntry?
                if let exact = try reader.streamEntries(header, from: header.lastID, to: header.lastID, count: 1).first {
                    last = exact
                } else {
                    last = try reader.streamEntries(header, from: .zero, to: .max, reverse: true, count: 1).first
                }
                pairs += [
                    RESPValue.Pair(.bulk("groups"), .integer(Int64(groups.count))),
                    RESPValue.Pair(.bulk("first-entry"), first?.reply ?? .null),
                    RESPValue.Pair(.bulk("last-entry"), last?.reply ?? .null),
                ]
                return .map(pairs)
            }
            let limit = full == 0 ? nil : full
            let entries = try reader.streamEntries(header, from: .zero, to: .max, count: limit)
            pairs.append(RESPValue.Pair(.bulk("entries"), .array(entries.map(\.reply))))
            var described: [RESPValue] = []
            for group in groups {
                let pending = try reader.pendingEntries(header, group.name, from: .zero, to: .max, limit: limit ?? .max)
                var consumers: [RESPValue] = []
                for consumer in group.consumers {
                    let own = try reader.pendingEntries(header, group.name, from: .zero, to: .max, limit: .max)
                        .filter { $0.consumer == consumer.name }
                    consumers.append(.map([
                        RESPValue.Pair(.bulk("name"), .bulkString(consumer.name)),
                        RESPValue.Pair(.bulk("seen-time"), .integer(Int64(clamping: consumer.seenAt))),
                        RESPValue.Pair(.bulk("pel-count"), .integer(Int64(consumer.pending))),
                        RESPValue.Pair(.bulk("pending"), .array(own.prefix(limit ?? .max).map { pending in
                            .array([.bulk(pending.id.description), .integer(Int64(clamping: pending.deliveredAt)),
                                    .integer(Int64(clamping: pending.deliveries))])
                        })),
                    ]))
                }
                described.append(.map([
                    RESPValue.Pair(.bulk("name"), .bulkString(group.name)),
                    RESPValue.Pair(.bulk("last-delivered-id"), .bulk(group.lastDelivered.description)),
                    RESPValue.Pair(.bulk("entries-read"), group.entriesRead.map { .integer(Int64(clamping: $0)) } ?? .null),
                    RESPValue.Pair(.bulk("lag"), try lag(header, group).map { .integer(Int64(clamping: $0)) } ?? .null),
                    RESPValue.Pair(.bulk("pel-count"), .integer(Int64(group.pending))),
                    RESPValue.Pair(.bulk("pending"), .array(pending.map { entry in
                        .array([.bulk(entry.id.description), .bulkString(entry.consumer),
                                .integer(Int64(clamping: entry.deliveredAt)), .integer(Int64(clamping: entry.deliveries))])
                    })),
                    RESPValue.Pair(.bulk("consumers"), .array(consumers)),
                ]))
            }
            pairs.append(RESPValue.Pair(.bulk("groups"), .array(described)))
            return .map(pairs)
        }
    }

    /// Every group of the stream, in name order (as Redis lists them).
    private func streamGroups(_ header: StreamHeader) throws(StorageError) -> [StreamGroup] {
        var groups: [StreamGroup] = []
        var from: [UInt8] = [0x01]
        while true {
            let rows = try reader.elementRows(of: header.generation, from: from, to: [0x02], limit: 1_000)
            for row in rows { groups.append(try StreamGroup(decoding: row.body)) }
            guard rows.count == 1_000, let last = rows.last else { break }
            from = last.part + [0]
        }
        return groups.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// How many entries the group has yet to read, as Redis 7 counts it: from its read counter when no
    /// entry after its last delivered id was deleted, else estimated from the stream's counters; nil when
    /// neither is known.
    private func lag(_ header: StreamHeader, _ group: StreamGroup) throws(StorageError) -> UInt64? {
        if header.entriesAdded == 0 { return 0 }
        if let read = group.entriesRead, !header.hasDeletions(from: group.lastDelivered) { return header.entriesAdded &- read }
        let first = try reader.streamEntries(header, from: .zero, to: .max, count: 1).first?.id
        return header.entriesAdded(upTo: group.lastDelivered, firstID: first).map { header.entriesAdded &- $0 }
    }
}
