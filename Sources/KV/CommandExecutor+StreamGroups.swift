import RESP
import Storage

extension CommandExecutor {
    private static func noGroup(_ key: [UInt8], _ group: [UInt8]) -> CommandResult {
        .reply(.error(StreamGroupErrors.noSuchGroup(key: key, group: group)))
    }

    /// The stream at `key` for a group command: nil when missing; WRONGTYPE as a refusal.
    private func liveStream(_ key: [UInt8]) throws(StorageError) -> Result<(StreamHeader, UInt64)?, RESPRefusalResult> {
        guard let current = try live(key) else { return .success(nil) }
        guard case .stream(let header) = current.value else { return .failure(RESPRefusalResult(.error(.wrongType))) }
        return .success((header, current.expireAtMillis))
    }

    private func writeGroup(_ header: StreamHeader, _ group: StreamGroup, _ ts: UInt64) throws(StorageError) {
        let part = StreamGroupParts.group(try groupName(header, group.name))
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, part), commitTS: ts,
                                          body: group.encoded()))
    }


    /// Group changes leave the stream's metadata row alone, so WATCH does not see them, as in Redis (only XGROUP
    /// CREATE … MKSTREAM, which creates the key, writes it).
    func executeStreamGroup(_ command: StreamGroupCommand, _ ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .create(let key, let group, let start, let makeStream, let entriesRead):
            var found: (StreamHeader, UInt64)?
            switch try liveStream(key) {
            case .failure(let refusal): return refusal.result
            case .success(let stream): found = stream
            }
            if found == nil {
                guard makeStream else { return Self.missingKey() }
                found = (StreamHeader(generation: ts, indexKeyID: indexes.current.keyID), 0)
            }
            guard let (header, expireAt) = found else { return .null }
            if try streamGroup(header, group) != nil { return .reply(.error("BUSYGROUP Consumer Group name already exists")) }
            let last = Self.resolve(start, header)
            try writeGroup(header, StreamGroup(name: group, lastDelivered: last, entriesRead: entriesRead), ts)
            if try live(key) == nil { try write(key, .stream(header), expireAt: expireAt, ts: ts) }
            return .ok
        case .destroy(let key, let group):
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, _) = found else { return Self.missingKey() }
            guard try streamGroup(header, group) != nil else { return .integer(0) }
            let name = try groupName(header, group)
            try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, StreamGroupParts.group(name)),
                                              commitTS: ts, isTombstone: true))
            for entry in try pendingEntries(header, group, from: .zero, to: .max, limit: .max) {
                try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation,
                                                                             StreamGroupParts.pending(name, entry.id)),
                                                  commitTS: ts, isTombstone: true))
            }
            return .integer(1)
        case .createConsumer(let key, let group, let consumer):
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, _) = found, var stored = try streamGroup(header, group) else {
                return found == nil ? Self.missingKey() : Self.noGroup(key, group)
            }
            guard stored.consumer(consumer, now: nowMillis).created else { return .integer(0) }
            try writeGroup(header, stored, ts)
            return .integer(1)
        case .deleteConsumer(let key, let group, let consumer):
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, _) = found, var stored = try streamGroup(header, group) else {
                return found == nil ? Self.missingKey() : Self.noGroup(key, group)
            }
            guard let index = stored.consumerIndex(consumer) else { return .integer(0) }
            let pending = stored.consumers[index].pending
            if pending > 0 {
                let name = try groupName(header, group)
                for entry in try pendingEntries(header, group, from: .zero, to: .max, limit: .max)
                where entry.consumer == consumer {
                    try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation,
                                                                                 StreamGroupParts.pending(name, entry.id)),
                                                      commitTS: ts, isTombstone: true))
                }
            }
            stored.consumers.remove(at: index)
            try writeGroup(header, stored, ts)
            return .integer(Int64(pending))
        case .setID(let key, let group, let start, let entriesRead):
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, _) = found, var stored = try streamGroup(header, group) else {
                return found == nil ? Self.missingKey() : Self.noGroup(key, group)
            }
            stored.lastDelivered = Self.resolve(start, header)
            stored.entriesRead = entriesRead
            try writeGroup(header, stored, ts)
            return .ok
        case .read(let group, let consumer, let keys, let ids, let count, let noAck):
            return try readGroup(group, consumer, keys, ids, count: count, noAck: noAck, ts)
        case .claim(let key, let group, let consumer, let minIdle, let ids, let options):
            return try claim(key, group, consumer, minIdle: minIdle, ids: ids, options, ts)
        case .autoClaim(let key, let group, let consumer, let minIdle, let start, let count, let justID):
            return try autoClaim(key, group, consumer, minIdle: minIdle, start: start, count: count, justID: justID, ts)
        case .acknowledge(let key, let group, let ids):
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, _) = found, var stored = try streamGroup(header, group) else { return .integer(0) }
            let name = try groupName(header, group)
            var acknowledged: Int64 = 0
            for id in Set(ids).sorted() {
                let row = RedisKeyspace.element(header.generation, StreamGroupParts.pending(name, id))
                guard let version = try transaction.latestVersion(of: row), !version.isTombstone else { continue }
                let entry = try PendingEntry.decode(version.body, id: id)
                try transaction.put(StoredVersion(key: row, commitTS: ts, isTombstone: true))
                if let index = stored.consumerIndex(entry.consumer), stored.consumers[index].pending > 0 {
                    stored.consumers[index].pending -= 1
                }
                acknowledged += 1
            }
            if acknowledged > 0 {
                try writeGroup(header, stored, ts)
            }
            return .integer(acknowledged)
        }
    }

    /// The stream and group XCLAIM and XAUTOCLAIM act on, or Redis's refusal.
    private func claimTarget(_ key: [UInt8], _ group: [UInt8]) throws(StorageError)
        -> Result<(StreamHeader, UInt64, StreamGroup), RESPRefusalResult>
    {
        guard case .success(let found) = try liveStream(key) else { return .failure(RESPRefusalResult(.error(.wrongType))) }
        guard let (header, expireAt) = found, let stored = try streamGroup(header, group) else {
            return .failure(RESPRefusalResult(.reply(.error(StreamGroupErrors.noSuchKeyOrGroup(key: key, group: group)))))
        }
        return .success((header, expireAt, stored))
    }

    /// Makes `id` pending for the consumer at `owner` in `group` (it was `previous`'s; nil: in no one's list,
    /// XCLAIM FORCE), delivered at `deliveredAt`.
    private func transfer(_ id: StreamID, from previous: [UInt8]?, to owner: Int, in group: inout StreamGroup,
                          name: [UInt8], header: StreamHeader, deliveredAt: UInt64, deliveries: UInt64, _ ts: UInt64)
        throws(StorageError)
    {
        if previous != group.consumers[owner].name {
            if let previous, let index = group.consumerIndex(previous), group.consumers[index].pending > 0 {
                group.consumers[index].pending -= 1
            }
            group.consumers[owner].pending += 1
        }
        let moved = PendingEntry(id: id, consumer: group.consumers[owner].name, deliveredAt: deliveredAt,
                                 deliveries: deliveries)
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, StreamGroupParts.pending(name, id)),
                                          commitTS: ts, body: moved.body()))
    }

    /// Forgets a pending entry whose stream entry is gone.
    private func dropPending(_ entry: PendingEntry, in group: inout StreamGroup, name: [UInt8], header: StreamHeader,
                             _ ts: UInt64) throws(StorageError) {
        if let owner = group.consumerIndex(entry.consumer), group.consumers[owner].pending > 0 {
            group.consumers[owner].pending -= 1
        }
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, StreamGroupParts.pending(name, entry.id)),
                                          commitTS: ts, isTombstone: true))
    }

    private func pendingEntry(_ header: StreamHeader, _ name: [UInt8], _ id: StreamID) throws(StorageError) -> PendingEntry? {
        guard let body = try elementRow(of: header.generation, part: StreamGroupParts.pending(name, id)) else { return nil }
        return try PendingEntry.decode(body, id: id)
    }

    private func claim(_ key: [UInt8], _ groupName: [UInt8], _ consumer: [UInt8], minIdle: UInt64, ids: [StreamID],
                       _ options: StreamClaimOptions, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let (header, stored): (StreamHeader, StreamGroup)
        switch try claimTarget(key, groupName) {
        case .failure(let refusal): return refusal.result
        case .success(let target): (header, _, stored) = target
        }
        var group = stored
        let name = try self.groupName(header, groupName)
        var deliveredAt = nowMillis
        switch options.delivery {
        case .now: break
        case .idle(let idle): deliveredAt = UInt64(clamping: Int64(clamping: nowMillis) - idle)
        case .time(let time): deliveredAt = UInt64(clamping: time)
        }
        if deliveredAt > nowMillis { deliveredAt = nowMillis }
        var owner: Int?
        var replies: [RESPValue] = []
        for id in ids {
            let existing = try pendingEntry(header, name, id)
            guard let body = try elementRow(of: header.generation, part: id.part) else {
                if let existing { try dropPending(existing, in: &group, name: name, header: header, ts) }
                continue
            }
            if let existing {
                if minIdle > 0, nowMillis >= existing.deliveredAt, nowMillis - existing.deliveredAt < minIdle { continue }
            } else if !options.force {
                continue
            }
            let index = owner ?? group.consumer(consumer, now: nowMillis).index
            owner = index
            let previous = existing?.deliveries ?? 0
            let deliveries = options.retryCount ?? (options.justID ? previous : previous + 1)
            try transfer(id, from: existing?.consumer, to: index, in: &group, name: name, header: header,
                         deliveredAt: deliveredAt, deliveries: deliveries, ts)
            replies.append(options.justID ? .bulk(id.description) : try StreamEntry.decodeBody(body, id: id).reply)
        }
        if let lastID = options.lastID, lastID > group.lastDelivered { group.lastDelivered = lastID }
        try writeGroup(header, group, ts)
        return .reply(.array(replies))
    }

    private func autoClaim(_ key: [UInt8], _ groupName: [UInt8], _ consumer: [UInt8], minIdle: UInt64, start: StreamID,
                           count: Int, justID: Bool, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let (header, stored): (StreamHeader, StreamGroup)
        switch try claimTarget(key, groupName) {
        case .failure(let refusal): return refusal.result
        case .success(let target): (header, _, stored) = target
        }
        var group = stored
        let name = try self.groupName(header, groupName)
        let index = group.consumer(consumer, now: nowMillis).index
        // Redis looks at up to ten times COUNT pending entries per call.
        let window = try pendingEntries(header, groupName, from: start, to: .max, limit: count * 10 + 1)
        var claimed: [RESPValue] = [], deleted: [RESPValue] = []
        var examined = 0
        for entry in window.prefix(count * 10) where claimed.count < count {
            examined += 1
            guard let body = try elementRow(of: header.generation, part: entry.id.part) else {
                try dropPending(entry, in: &group, name: name, header: header, ts)
                deleted.append(.bulk(entry.id.description))
                continue
            }
            if minIdle > 0, nowMillis >= entry.deliveredAt, nowMillis - entry.deliveredAt < minIdle { continue }
            try transfer(entry.id, from: entry.consumer, to: index, in: &group, name: name, header: header,
                         deliveredAt: nowMillis, deliveries: justID ? entry.deliveries : entry.deliveries + 1, ts)
            claimed.append(justID ? .bulk(entry.id.description) : try StreamEntry.decodeBody(body, id: entry.id).reply)
        }
        let cursor = examined < window.count ? window[examined].id : StreamID.zero
        try writeGroup(header, group, ts)
        return .reply(.array([.bulk(cursor.description), .array(claimed), .array(deleted)]))
    }

    private static func missingKey() -> CommandResult { .reply(.error(StreamGroupErrors.missingKey)) }

    private static func resolve(_ start: StreamGroupStart, _ header: StreamHeader) -> StreamID {
        switch start {
        case .id(let id): return id
        case .latest: return header.lastID
        }
    }

    /// XREADGROUP: every key must hold the group (checked first, as Redis does); then, per stream, new entries
    /// (`>`: delivered to the consumer and added to the pending list unless NOACK) or the consumer's pending
    /// entries after the id (an entry deleted since answers `[id, nil]`).
    private func readGroup(_ group: [UInt8], _ consumer: [UInt8], _ keys: [[UInt8]], _ ids: [StreamGroupReadID],
                           count: Int, noAck: Bool, _ ts: UInt64) throws(StorageError) -> CommandResult {
        var streams: [(header: StreamHeader, expireAt: UInt64, group: StreamGroup)] = []
        for key in keys {
            guard case .success(let found) = try liveStream(key) else { return .error(.wrongType) }
            guard let (header, expireAt) = found, let stored = try streamGroup(header, group) else {
                return .reply(.error(StreamGroupErrors.noSuchKeyOrGroup(key: key, group: group, readGroup: true)))
            }
            streams.append((header, expireAt, stored))
        }
        var replies: [RESPValue.Pair] = []
        let limit = count == 0 ? Int.max : count
        for ((key, id), checked) in zip(zip(keys, ids), streams) {
            // A key named twice sees what the first read changed.
            var (header, _, stored) = checked
            if case .success(let current?) = try liveStream(key), let again = try streamGroup(current.0, group) {
                (header, stored) = (current.0, again)
            }
            var group = stored
            let name = try groupName(header, group.name)
            let (index, created) = group.consumer(consumer, now: nowMillis)
            group.consumers[index].seenAt = nowMillis
            var items: [RESPValue] = []
            switch id {
            case .new:
                if let start = group.lastDelivered.next, header.lastID > group.lastDelivered {
                    let entries = try streamEntries(header, from: start, to: .max, count: limit)
                    for entry in entries {
                        if !noAck {
                            let row = RedisKeyspace.element(header.generation, StreamGroupParts.pending(name, entry.id))
                            var deliveries: UInt64 = 1
                            if let previous = try transaction.latestVersion(of: row), !previous.isTombstone {
                                // Delivered again after SETID: the entry moves to this consumer.
                                let old = try PendingEntry.decode(previous.body, id: entry.id)
                                deliveries = old.deliveries + 1
                                if let owner = group.consumerIndex(old.consumer), group.consumers[owner].pending > 0 {
                                    group.consumers[owner].pending -= 1
                                }
                            }
                            let pending = PendingEntry(id: entry.id, consumer: consumer, deliveredAt: nowMillis,
                                                       deliveries: deliveries)
                            try transaction.put(StoredVersion(key: row, commitTS: ts, body: pending.body()))
                            group.consumers[index].pending += 1
                        }
                        group.lastDelivered = entry.id
                        if let read = group.entriesRead, !header.hasDeletions(from: entry.id) {
                            group.entriesRead = read + 1
                        } else if header.entriesAdded > 0 {
                            let first = try streamEntries(header, from: .zero, to: .max, count: 1).first?.id
                            group.entriesRead = header.entriesAdded(upTo: entry.id, firstID: first)
                        }
                        items.append(entry.reply)
                    }
                }
                if items.isEmpty {
                    // Nothing new: only a new consumer is written (a blocked XREADGROUP that tries again must not
                    // wake itself with its own write).
                    if created { try writeGroup(header, group, ts) }
                    continue
                }
            case .history(let after):
                guard let start = after.next else { break }
                let pending = try pendingEntries(header, group.name, from: start, to: .max, limit: .max)
                for entry in pending where entry.consumer == consumer {
                    if items.count >= limit { break }
                    guard let body = try elementRow(of: header.generation, part: entry.id.part) else {
                        // Deleted since it was delivered: the id, without fields.
                        items.append(.array([.bulk(entry.id.description), .nullArray]))
                        continue
                    }
                    items.append(try StreamEntry.decodeBody(body, id: entry.id).reply)
                    // Read again: delivered once more, now.
                    var delivered = entry
                    delivered.deliveredAt = nowMillis
                    delivered.deliveries += 1
                    try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation,
                                                                                 StreamGroupParts.pending(name, entry.id)),
                                                      commitTS: ts, body: delivered.body()))
                }
            }
            try writeGroup(header, group, ts)
            replies.append(.init(.bulkString(key), .array(items)))
        }
        return .reply(replies.isEmpty ? .nullArray : .pairArrays(replies))
    }
}

/// A reply that ends a group command early, as an `Error` for `Result`.
struct RESPRefusalResult: Error {
    let result: CommandResult
    init(_ result: CommandResult) { self.result = result }
}
