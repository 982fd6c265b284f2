import Storage

extension CommandExecutor {
    func executeStream(_ command: StreamCommand, _ ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .add(let key, let request, let fields, let makeStream, let trim):
            var header: StreamHeader
            var expireAt: UInt64 = 0
            if let current = try live(key) {
                guard case .stream(let existing) = current.value else { return .error(.wrongType) }
                header = existing
                expireAt = current.expireAtMillis
            } else {
                guard makeStream else { return .null }
                header = StreamHeader(generation: ts, indexKeyID: indexes.current.keyID)
            }
            let id: StreamID
            do throws(CommandError) { id = try Self.nextID(request, after: header.lastID, now: nowMillis) } catch {
                return .error(error)
            }
            try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, id.part), commitTS: ts,
                                              body: StreamEntry.encodeBody(fields)))
            header.count += 1
            header.entriesAdded += 1
            header.lastID = id
            if let trim { _ = try self.trim(&header, trim, ts) }
            try write(key, .stream(header), expireAt: expireAt, ts: ts)
            return .bulk(Array(id.description.utf8))
        case .delete(let key, let ids):
            guard let current = try live(key) else { return .integer(0) }
            guard case .stream(var header) = current.value else { return .error(.wrongType) }
            var deleted: Int64 = 0
            for id in Set(ids).sorted() {
                let row = RedisKeyspace.element(header.generation, id.part)
                guard let version = try transaction.latestVersion(of: row), !version.isTombstone else { continue }
                try transaction.put(StoredVersion(key: row, commitTS: ts, isTombstone: true))
                header.count -= 1
                header.maxDeletedID = Swift.max(header.maxDeletedID, id)
                deleted += 1
            }
            if deleted > 0 { try write(key, .stream(header), expireAt: current.expireAtMillis, ts: ts) }
            return .integer(deleted)
        case .setID(let key, let id, let entriesAdded, let maxDeletedID):
            guard let current = try live(key) else { return .error(.noSuchKey) }
            guard case .stream(var header) = current.value else { return .error(.wrongType) }
            if id < header.maxDeletedID {
                return .reply(.error("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"))
            }
            if header.count > 0 {
                let top = try streamEntries(header, from: .zero, to: .max, reverse: true, count: 1).first?.id ?? .zero
                if id < top { return .reply(.error("ERR The ID specified in XSETID is smaller than the target stream top item")) }
                if let entriesAdded, header.count > entriesAdded {
                    return .reply(.error("ERR The entries_added specified in XSETID is smaller than the target stream length"))
                }
            }
            header.lastID = id
            if let entriesAdded { header.entriesAdded = entriesAdded }
            if let maxDeletedID, maxDeletedID != .zero { header.maxDeletedID = maxDeletedID }
            try write(key, .stream(header), expireAt: current.expireAtMillis, ts: ts)
            return .ok
        case .trim(let key, let trim):
            guard let current = try live(key) else { return .integer(0) }
            guard case .stream(var header) = current.value else { return .error(.wrongType) }
            let removed = try self.trim(&header, trim, ts)
            if removed > 0 { try write(key, .stream(header), expireAt: current.expireAtMillis, ts: ts) }
            return .integer(Int64(removed))
        }
    }

    /// Removes the oldest entries the trim names (at most its LIMIT); how many went.
    private func trim(_ header: inout StreamHeader, _ trim: StreamTrim, _ ts: UInt64) throws(StorageError) -> UInt64 {
        var wanted: UInt64
        switch trim.threshold {
        case .maxLength(let length): wanted = header.count > length ? header.count - length : 0
        case .minID: wanted = header.count
        }
        if let limit = trim.limit, limit > 0 { wanted = Swift.min(wanted, limit) }
        guard wanted > 0 else { return 0 }
        var removed: UInt64 = 0
        let oldest = try streamEntries(header, from: .zero, to: .max, count: Int(clamping: wanted))
        for entry in oldest {
            if case .minID(let minimum) = trim.threshold, entry.id >= minimum { break }
            try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, entry.id.part), commitTS: ts,
                                              isTombstone: true))
            removed += 1
        }
        header.count -= removed
        return removed
    }

    /// The id XADD gives the new entry, or the error Redis answers.
    static func nextID(_ request: StreamIDRequest, after last: StreamID, now: UInt64) throws(CommandError) -> StreamID {
        guard last != .max else { throw CommandError.streamExhausted }
        switch request {
        case .auto:
            if now > last.ms { return StreamID(now, 0) }
            guard let next = last.next else { throw CommandError.streamExhausted }
            return next
        case .autoSequence(let ms):
            if ms > last.ms { return StreamID(ms, 0) }
            guard ms == last.ms else { throw CommandError.streamIDTooSmall }
            guard last.seq < .max else { throw CommandError.streamSequenceExhausted }
            return StreamID(ms, last.seq + 1)
        case .explicit(let id):
            guard id > last else { throw CommandError.streamIDTooSmall }
            return id
        }
    }
}
