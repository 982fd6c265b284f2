import Storage

/// Executes one command against the store transaction with Redis semantics.
///
/// Reads see the transaction's own writes. A value is live when its newest version is neither a tombstone
/// nor expired at the entry's clock reading; writes that keep a TTL (APPEND, INCR, HSET …) carry the live
/// version's expiry over, as Redis does.
struct CommandExecutor {
    let transaction: WriteTransaction
    let nowMillis: UInt64
    let maxValueBytes: Int
    let indexes: ElementIndexes
    /// The database the command being executed acts on (``Command/database(_:_:)`` sets it).
    var database: UInt8 = 0

    /// Keys FLUSHALL deletes per store scan (all of them go in the one entry's transaction).
    static let flushBatchKeys = 1_000

    init(transaction: WriteTransaction, nowMillis: UInt64, maxValueBytes: Int, indexes: ElementIndexes) {
        self.transaction = transaction
        self.nowMillis = nowMillis
        self.maxValueBytes = maxValueBytes
        self.indexes = indexes
    }

    /// A live value with its expiry.
    struct Live {
        var value: RedisValue
        var expireAtMillis: UInt64
    }

    /// The live value of `key` at the entry's clock (or at `now`).
    func live(_ key: [UInt8], at now: UInt64? = nil) throws(StorageError) -> Live? {
        guard let version = try transaction.latestVersion(of: RedisKeyspace.primary(key, database: database)),
              version.isVisible(atMillis: now ?? nowMillis) else {
            return nil
        }
        do throws(KVError) {
            return Live(value: try RedisValue(decoding: version.body), expireAtMillis: version.expireAtMillis)
        } catch {
            throw StorageError.corruptRecord(reason: error.description)
        }
    }

    /// Writes `key`'s value; the element rows of a collection it replaces are deleted.
    func write(_ key: [UInt8], _ value: RedisValue, expireAt: UInt64, ts: UInt64) throws(StorageError) {
        let row = RedisKeyspace.primary(key, database: database)
        try releaseReplaced(row, keeping: value.generation, ts)
        try transaction.put(StoredVersion(key: row, commitTS: ts, expireAtMillis: expireAt, body: value.encoded()))
    }

    /// Deletes `key`, and its element rows unless `keepingElements` (RENAME moved them to another key).
    func delete(_ key: [UInt8], ts: UInt64, keepingElements: Bool = false) throws(StorageError) {
        let row = RedisKeyspace.primary(key, database: database)
        if !keepingElements { try releaseReplaced(row, keeping: nil, ts) }
        try transaction.put(StoredVersion(key: row, commitTS: ts, isTombstone: true))
    }

    /// Deletes the element rows of the collection the newest version of `row` describes (live or expired),
    /// unless it is the collection `generation`.
    private func releaseReplaced(_ row: [UInt8], keeping generation: UInt64?, _ ts: UInt64) throws(StorageError) {
        guard let previous = try transaction.latestVersion(of: row), !previous.isTombstone,
              let replaced = RedisValue.generation(ofBody: previous.body), replaced != generation else { return }
        try releaseElements(of: replaced, ts)
    }

    /// Deletes the expired keys among the next `limit` keys of every database from `from` (a database byte
    /// then a key: the primary row key without its tag; clock 0 shows expired versions too), with their
    /// element rows; answers where the next sweep starts, or null after the last key.
    mutating func sweepExpired(from: [UInt8], limit: Int, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let versions = try transaction.scan(from: RedisKeyspace.primaryRows(from: from), to: RedisKeyspace.primaryRowsEnd,
                                            nowMillis: 0, limit: limit)
        let outer = database
        defer { database = outer }
        for version in versions where version.expireAtMillis != 0 && version.expireAtMillis <= nowMillis {
            guard let (rowDatabase, key) = RedisKeyspace.primaryParts(version.key) else { continue }
            database = rowDatabase
            try delete(key, ts: ts)
        }
        guard versions.count == limit, let last = versions.last else { return .null }
        return .bulk(Array(last.key.dropFirst()) + [0])
    }

    /// Visits every row in `[start, end)` (no bound when `end` is nil) that is not a tombstone, expired ones
    /// included (clock 0), in key order, one batch at a time; `body` may write rows already visited.
    func forEachRow(from start: [UInt8], to end: [UInt8]?, _ body: (StoredVersion) throws(StorageError) -> Void)
        throws(StorageError)
    {
        var from = start
        while true {
            let batch = try transaction.scan(from: from, to: end, nowMillis: 0, limit: Self.flushBatchKeys)
            for version in batch { try body(version) }
            guard batch.count == Self.flushBatchKeys, let last = batch.last else { return }
            from = last.key + [0]
        }
    }

    /// Every primary row of `database` that is not a tombstone (expired ones included), in key order.
    func rows(of database: UInt8) throws(StorageError) -> [StoredVersion] {
        var rows: [StoredVersion] = []
        try forEachRow(from: RedisKeyspace.primary([], database: database), to: RedisKeyspace.primaryEnd(database: database)) {
            rows.append($0)
        }
        return rows
    }

    /// A copy of a value for COPY: a collection gets the new generation `ts` and a copy of every element row
    /// (same parts, so list positions and member names stay valid).
    func copyElements(of value: RedisValue, _ ts: UInt64) throws(StorageError) -> RedisValue {
        guard let generation = value.generation else { return value }
        try forEachElementRow(of: generation) { (part, body) throws(StorageError) in
            try transaction.put(StoredVersion(key: RedisKeyspace.element(ts, part), commitTS: ts, body: body))
        }
        return value.withGeneration(ts)
    }

    mutating func execute(_ command: Command, commitTS ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .set(let key, let value, let condition, let expiry, let returnOld):
            return try set(key, value, condition, expiry, returnOld, ts)
        case .multiSet(let pairs, let onlyIfNoneExist):
            if onlyIfNoneExist {
                for pair in pairs where try live(pair.key) != nil { return .integer(0) }
            }
            for pair in pairs { try write(pair.key, .string(pair.value), expireAt: 0, ts: ts) }
            return onlyIfNoneExist ? .integer(1) : .ok
        case .delete(let keys):
            var deleted: Int64 = 0
            for key in Set(keys) where try live(key) != nil {
                try delete(key, ts: ts)
                deleted += 1
            }
            return .integer(deleted)
        case .incrementBy(let key, let delta):
            return try incrementBy(key, delta, ts)
        case .incrementByFloat(let key, let delta):
            return try incrementByFloat(key, delta, ts)
        case .append(let key, let value):
            return try modifyString(key, ts) { $0.append(contentsOf: value) }
        case .setRange(let key, let offset, let value):
            return try setRange(key, offset, value, ts)
        case .expireAt(let key, let atMillis):
            guard let current = try live(key) else { return .integer(0) }
            if atMillis <= nowMillis { try delete(key, ts: ts) } else {
                try write(key, current.value, expireAt: atMillis, ts: ts)
            }
            return .integer(1)
        case .expireAtIf(let key, let atMillis, let condition):
            guard let current = try live(key), condition.admits(current: current.expireAtMillis, new: atMillis) else {
                return .integer(0)
            }
            if atMillis <= nowMillis { try delete(key, ts: ts) } else {
                try write(key, current.value, expireAt: atMillis, ts: ts)
            }
            return .integer(1)
        case .rename(let from, let to, let onlyIfAbsent):
            guard let current = try live(from) else { return .error(.noSuchKey) }
            if onlyIfAbsent, try live(to) != nil { return .integer(0) }
            if from != to {
                try write(to, current.value, expireAt: current.expireAtMillis, ts: ts)
                try delete(from, ts: ts, keepingElements: true)
            }
            return onlyIfAbsent ? .integer(1) : .ok
        case .copy(let from, let to, let replace):
            guard let current = try live(from) else { return .integer(0) }
            if !replace, try live(to) != nil { return .integer(0) }
            try write(to, try copyElements(of: current.value, ts), expireAt: current.expireAtMillis, ts: ts)
            return .integer(1)
        case .hashIncrementByFloat(let key, let field, let delta):
            return try hashIncrementByFloat(key, field, delta, ts)
        case .flushAll:
            // Expired keys too: FLUSHALL leaves no row, element rows included; scripts and function libraries
            // stay, as in Redis (their rows come after every data row).
            try forEachRow(from: [], to: ScriptRows.scriptsStart) { (version) throws(StorageError) in
                try transaction.put(StoredVersion(key: version.key, commitTS: ts, isTombstone: true))
            }
            return .ok
        case .setBit(let key, let offset, let bit):
            return try setBit(key, offset, bit, ts)
        case .bitOperation(let operation, let destination, let sources):
            return try bitOperation(operation, destination, sources, ts)
        case .hashSetIfAbsent(let key, let field, let value):
            return try hashSetIfAbsent(key, field, value, ts)
        case .persist(let key):
            guard let current = try live(key), current.expireAtMillis != 0 else { return .integer(0) }
            try write(key, current.value, expireAt: 0, ts: ts)
            return .integer(1)
        case .getDelete(let key):
            guard let current = try live(key) else { return .null }
            guard case .string(let bytes) = current.value else { return .error(.wrongType) }
            try delete(key, ts: ts)
            return .bulk(bytes)
        case .getExpire(let key, let expiry):
            return try getExpire(key, expiry, ts)
        case .hashSet(let key, let fields):
            return try hashSet(key, fields, ts)
        case .hashDelete(let key, let fields):
            return try hashDelete(key, fields, ts)
        case .hashIncrementBy(let key, let field, let delta):
            return try hashIncrementBy(key, field, delta, ts)
        case .list(let command):
            return try executeList(command, ts)
        case .sets(let command):
            return try executeSet(command, ts)
        case .sortedSets(let command):
            return try executeSortedSet(command, ts)
        case .streams(let command):
            return try executeStream(command, ts)
        case .streamGroups(let command):
            return try executeStreamGroup(command, ts)
        case .sweepExpired(let from, let limit):
            return try sweepExpired(from: from, limit: Int(limit), ts)
        case .database(let database, let command):
            let outer = self.database
            self.database = database
            defer { self.database = outer }
            return try execute(command, commitTS: ts)
        case .flushDatabase:
            // Expired keys too: FLUSHDB leaves no row of the database.
            try forEachRow(from: RedisKeyspace.primary([], database: database),
                           to: RedisKeyspace.primaryEnd(database: database)) { (version) throws(StorageError) in
                if let key = RedisKeyspace.userKey(ofPrimary: version.key, database: database) { try delete(key, ts: ts) }
            }
            return .ok
        case .bitField(let key, let operations):
            let current = try live(key)
            var bytes: [UInt8] = []
            if let current {
                guard case .string(let existing) = current.value else { return .error(.wrongType) }
                bytes = existing
            }
            // As Redis, the string first grows to the farthest bit a write names, even one FAIL refuses.
            let reach = operations.filter(\.writes).map { Int(($0.offset + UInt64($0.field.bits) - 1) / 8) + 1 }.max() ?? 0
            guard reach <= maxValueBytes else { return .error(.stringTooLong) }
            if bytes.count < reach { bytes += [UInt8](repeating: 0, count: reach - bytes.count) }
            let answers = BitField.run(operations, on: &bytes)
            try write(key, .string(bytes), expireAt: current?.expireAtMillis ?? 0, ts: ts)
            return .array(answers.map { $0.map(CommandResult.integer) ?? .null })
        case .hyperLogLogAdd(let key, let elements):
            let current = try live(key)
            var sketch = HyperLogLog()
            if let current {
                guard case .string(let bytes) = current.value else { return .error(.wrongType) }
                guard let existing = HyperLogLog(bytes) else { return .error(.notAHyperLogLog) }
                sketch = existing
            }
            var updated = current == nil
            for element in elements where sketch.add(element) { updated = true }
            if updated { try write(key, .string(sketch.encoded()), expireAt: current?.expireAtMillis ?? 0, ts: ts) }
            return .integer(updated ? 1 : 0)
        case .hyperLogLogMerge(let destination, let sources):
            var sketch = HyperLogLog()
            var expireAt: UInt64 = 0
            for (position, key) in ([destination] + sources).enumerated() {
                guard let current = try live(key) else { continue }
                guard case .string(let bytes) = current.value else { return .error(.wrongType) }
                guard let other = HyperLogLog(bytes) else { return .error(.notAHyperLogLog) }
                if position == 0 { expireAt = current.expireAtMillis }
                sketch.merge(other)
            }
            try write(destination, .string(sketch.encoded()), expireAt: expireAt, ts: ts)
            return .ok
        case .swapDatabases(let first, let second):
            guard first != second else { return .ok }
            let swapped = [(try rows(of: first), second), (try rows(of: second), first)]
            // Every row goes first (a later write at the same commit timestamp replaces a tombstone), then
            // each value is written under the other database; bodies are sealed again for their new row key.
            for (rows, _) in swapped {
                for version in rows { try transaction.put(StoredVersion(key: version.key, commitTS: ts, isTombstone: true)) }
            }
            for (rows, target) in swapped {
                for version in rows {
                    guard let (_, key) = RedisKeyspace.primaryParts(version.key) else { continue }
                    try transaction.put(StoredVersion(key: RedisKeyspace.primary(key, database: target), commitTS: ts,
                                                      expireAtMillis: version.expireAtMillis, body: version.body))
                }
            }
            return .ok
        case .move(let key, let target):
            guard target != database else { return .error(.sameObject) }
            guard let current = try live(key) else { return .integer(0) }
            let source = database
            database = target
            defer { database = source }
            if try live(key) != nil { return .integer(0) }
            // The element rows stay where they are: they belong to the generation, not to the database.
            try write(key, current.value, expireAt: current.expireAtMillis, ts: ts)
            database = source
            try delete(key, ts: ts, keepingElements: true)
            return .integer(1)
        case .copyToDatabase(let from, let to, let target, let replace):
            guard target != database || from != to else { return .error(.sameObject) }
            guard let current = try live(from) else { return .integer(0) }
            let source = database
            database = target
            defer { database = source }
            if !replace, try live(to) != nil { return .integer(0) }
            try write(to, try copyElements(of: current.value, ts), expireAt: current.expireAtMillis, ts: ts)
            return .integer(1)
        case .registerMember(let id, let name, let address):
            try transaction.setMeta(MemberDirectory.metaName(id), value: MemberDirectory.encode(name: name, address: address))
            return .ok
        }
    }
}

extension CommandExecutor: ElementRows {
    public var elementIndexes: ElementIndexes { indexes }

    func elementRows(of generation: UInt64, from: [UInt8], to: [UInt8]?, limit: Int) throws(StorageError)
        -> [(part: [UInt8], body: [UInt8])]
    {
        try transaction.scan(from: RedisKeyspace.element(generation, from),
                             to: to.map { RedisKeyspace.element(generation, $0) } ?? RedisKeyspace.generationEnd(generation),
                             nowMillis: 0, limit: limit)
            .map { (Array(RedisKeyspace.elementPart(of: $0.key, generation: generation) ?? []), $0.body) }
    }

    func elementRow(of generation: UInt64, part: [UInt8]) throws(StorageError) -> [UInt8]? {
        guard let version = try transaction.latestVersion(of: RedisKeyspace.element(generation, part)),
              !version.isTombstone else { return nil }
        return version.body
    }
}
