import KV

/// An in-memory reference of the Redis semantics the state machine implements, written independently of
/// it and as plainly as possible, for model-based tests.
struct RedisModel {
    struct Item: Hashable {
        var value: RedisValue
        var expireAt: UInt64
        /// A list's elements (its `value` is `.list` with only the count meaningful).
        var elements: [[UInt8]] = []
        /// A set's members (its `value` is `.set` with only the count meaningful).
        var members: Set<[UInt8]> = []
        /// A hash's fields (its `value` is `.hash` with only the count meaningful).
        var fields: [[UInt8]: [UInt8]] = [:]
        /// A sorted set's scores (its `value` is `.sortedSet` with only the count meaningful).
        var scores: [[UInt8]: Double] = [:]
    }

    var items: [[UInt8]: Item] = [:]
    var maxValueBytes = 64 << 20

    func live(_ key: [UInt8], _ now: UInt64) -> Item? {
        guard let item = items[key], item.expireAt == 0 || item.expireAt > now else { return nil }
        return item
    }

    mutating func apply(_ command: Command, now: UInt64) -> CommandResult {
        switch command {
        case .set(let key, let value, let condition, let expiry, let returnOld):
            let current = live(key, now)
            if returnOld, let current, current.value.typeName != "string" { return .error(.wrongType) }
            let old: CommandResult = {
                if case .string(let bytes)? = current?.value { return .bulk(bytes) }
                return .null
            }()
            if (condition == .ifAbsent && current != nil) || (condition == .ifPresent && current == nil) {
                return returnOld ? old : .null
            }
            var expireAt: UInt64 = 0
            if case .at(let at) = expiry { expireAt = at }
            if case .keep = expiry { expireAt = current?.expireAt ?? 0 }
            items[key] = (expireAt != 0 && expireAt <= now) ? nil : Item(value: .string(value), expireAt: expireAt)
            return returnOld ? old : .ok
        case .multiSet(let pairs, let onlyIfNoneExist):
            if onlyIfNoneExist && pairs.contains(where: { live($0.key, now) != nil }) { return .integer(0) }
            for pair in pairs { items[pair.key] = Item(value: .string(pair.value), expireAt: 0) }
            return onlyIfNoneExist ? .integer(1) : .ok
        case .delete(let keys):
            let existing = Set(keys).filter { live($0, now) != nil }
            for key in existing { items[key] = nil }
            return .integer(Int64(existing.count))
        case .incrementBy(let key, let delta):
            return incrementBy(key, delta, now)
        case .incrementByFloat(let key, let delta):
            return incrementByFloat(key, delta, now)
        case .append(let key, let value):
            return editString(key, now) { $0 += value }
        case .setRange(let key, let offset, let value):
            if value.isEmpty {
                guard let item = live(key, now) else { return .integer(0) }
                guard case .string(let bytes) = item.value else { return .error(.wrongType) }
                return .integer(Int64(bytes.count))
            }
            if Int(offset) + value.count > maxValueBytes { return .error(.stringTooLong) }
            return editString(key, now) { bytes in
                while bytes.count < Int(offset) + value.count { bytes.append(0) }
                for (i, byte) in value.enumerated() { bytes[Int(offset) + i] = byte }
            }
        case .expireAt(let key, let at):
            guard var item = live(key, now) else { return .integer(0) }
            item.expireAt = at
            items[key] = at <= now ? nil : item
            return .integer(1)
        case .persist(let key):
            guard var item = live(key, now), item.expireAt != 0 else { return .integer(0) }
            item.expireAt = 0
            items[key] = item
            return .integer(1)
        case .getDelete(let key):
            guard let item = live(key, now) else { return .null }
            guard case .string(let bytes) = item.value else { return .error(.wrongType) }
            items[key] = nil
            return .bulk(bytes)
        case .getExpire(let key, let expiry):
            guard var item = live(key, now) else { return .null }
            guard case .string(let bytes) = item.value else { return .error(.wrongType) }
            switch expiry {
            case .keep: break
            case .none: item.expireAt = 0
            case .at(let at): item.expireAt = at
            }
            items[key] = (item.expireAt != 0 && item.expireAt <= now) ? nil : item
            return .bulk(bytes)
        case .hashSet(let key, let pairs):
            return editHash(key, now) { fields in
                var added: Int64 = 0
                for pair in pairs {
                    if fields[pair.key] == nil { added += 1 }
                    fields[pair.key] = pair.value
                }
                return .integer(added)
            }
        case .hashDelete(let key, let names):
            return editHash(key, now) { fields in
                var removed: Int64 = 0
                for name in Set(names) where fields.removeValue(forKey: name) != nil { removed += 1 }
                return .integer(removed)
            }
        case .registerMember:
            return .ok
        case .list(let command):
            return applyList(command, now: now)
        case .sets(let command):
            return applySet(command, now: now)
        case .sortedSets(let command):
            return applySortedSet(command, now: now)
        case .sweepExpired(let from, let limit):
            // The model's keys all live in database 0: their positions are 0x00 ‖ key.
            let visited = items.keys.filter { !([0] + $0).lexicographicallyPrecedes(from) }
                .sorted { $0.lexicographicallyPrecedes($1) }.prefix(Int(limit))
            for key in visited where items[key]!.expireAt != 0 && items[key]!.expireAt <= now { items[key] = nil }
            return visited.count == Int(limit) ? .bulk([0] + visited.last! + [0]) : .null
        case .database, .flushDatabase, .move, .copyToDatabase, .swapDatabases, .hyperLogLogAdd, .hyperLogLogMerge,
             .bitField, .streams, .streamGroups:
            preconditionFailure("databases, HyperLogLogs, BITFIELD and streams are tested against redis-server (differential test)")
        case .flushAll:
            items = [:]
            return .ok
        case .expireAtIf(let key, let at, let condition):
            guard var item = live(key, now) else { return .integer(0) }
            let volatile = item.expireAt != 0
            if condition.contains(.noExpiry) && volatile { return .integer(0) }
            if condition.contains(.hasExpiry) && !volatile { return .integer(0) }
            if condition.contains(.later) && (!volatile || at <= item.expireAt) { return .integer(0) }
            if condition.contains(.earlier) && volatile && at >= item.expireAt { return .integer(0) }
            item.expireAt = at
            items[key] = at <= now ? nil : item
            return .integer(1)
        case .rename(let from, let to, let onlyIfAbsent):
            guard let item = live(from, now) else { return .error(.noSuchKey) }
            if onlyIfAbsent && live(to, now) != nil { return .integer(0) }
            items[from] = nil
            items[to] = item
            return onlyIfAbsent ? .integer(1) : .ok
        case .copy(let from, let to, let replace):
            guard let item = live(from, now), replace || live(to, now) == nil else { return .integer(0) }
            items[to] = item
            return .integer(1)
        case .hashIncrementByFloat(let key, let field, let delta):
            return editHash(key, now) { fields in
                let base = fields[field].map { RedisNumber.parseFloat($0) } ?? 0
                guard let base else { return .error(.hashValueNotAFloat) }
                let sum = base + delta
                if !sum.isFinite { return .error(.nanOrInfinity) }
                fields[field] = Array(RedisNumber.format(sum).utf8)
                return .bulk(fields[field]!)
            }
        case .setBit(let key, let offset, let bit):
            if Int(offset / 8) >= maxValueBytes { return .error(.stringTooLong) }
            var old: Int64 = 0
            let result = editString(key, now) { bytes in
                let index = Int(offset / 8)
                while bytes.count <= index { bytes.append(0) }
                let mask = UInt8(1 << (7 - Int(offset % 8)))
                old = (bytes[index] & mask) != 0 ? 1 : 0
                bytes[index] = bit ? (bytes[index] | mask) : (bytes[index] & ~mask)
            }
            if case .error = result { return result }
            return .integer(old)
        case .bitOperation(let operation, let destination, let sources):
            var inputs: [[UInt8]] = []
            for source in sources {
                guard let item = live(source, now) else { inputs.append([]); continue }
                guard case .string(let bytes) = item.value else { return .error(.wrongType) }
                inputs.append(bytes)
            }
            let length = inputs.map(\.count).max() ?? 0
            var output: [UInt8] = []
            for i in 0..<length {
                let column = inputs.map { i < $0.count ? $0[i] : UInt8(0) }
                switch operation {
                case .and: output.append(column.reduce(0xFF) { $0 & $1 })
                case .or: output.append(column.reduce(0) { $0 | $1 })
                case .xor: output.append(column.reduce(0) { $0 ^ $1 })
                case .not: output.append(~column[0])
                }
            }
            items[destination] = output.isEmpty ? nil : Item(value: .string(output), expireAt: 0)
            return .integer(Int64(length))
        case .hashSetIfAbsent(let key, let field, let value):
            return editHash(key, now) { fields in
                if fields[field] != nil { return .integer(0) }
                fields[field] = value
                return .integer(1)
            }
        case .hashIncrementBy(let key, let field, let delta):
            return editHash(key, now) { fields in
                let base = fields[field].map { RedisNumber.parseInteger($0) } ?? 0
                guard let base else { return .error(.hashValueNotAnInteger) }
                let (sum, overflow) = base.addingReportingOverflow(delta)
                if overflow { return .error(.overflow) }
                fields[field] = Array(String(sum).utf8)
                return .integer(sum)
            }
        }
    }

    private mutating func editString(_ key: [UInt8], _ now: UInt64, _ edit: (inout [UInt8]) -> Void)
        -> CommandResult
    {
        let item = live(key, now)
        var bytes: [UInt8] = []
        if let item {
            guard case .string(let existing) = item.value else { return .error(.wrongType) }
            bytes = existing
        }
        edit(&bytes)
        if bytes.count > maxValueBytes { return .error(.stringTooLong) }
        items[key] = Item(value: .string(bytes), expireAt: item?.expireAt ?? 0)
        return .integer(Int64(bytes.count))
    }

    private mutating func editHash(_ key: [UInt8], _ now: UInt64,
                                   _ edit: (inout [[UInt8]: [UInt8]]) -> CommandResult) -> CommandResult
    {
        let item = live(key, now)
        var fields: [[UInt8]: [UInt8]] = [:]
        if let item {
            guard case .hash = item.value else { return .error(.wrongType) }
            fields = item.fields
        }
        let before = fields
        let result = edit(&fields)
        if case .error = result { return result }
        if fields.isEmpty {
            if item != nil && !before.isEmpty { items[key] = nil }
        } else if fields != before || item == nil {
            let header = HashHeader(generation: 0, indexKeyID: 0, count: UInt64(fields.count))
            items[key] = Item(value: .hash(header), expireAt: item?.expireAt ?? 0, fields: fields)
        }
        return result
    }

    private mutating func incrementBy(_ key: [UInt8], _ delta: Int64, _ now: UInt64) -> CommandResult {
        let item = live(key, now)
        var base: Int64 = 0
        if let item {
            guard case .string(let bytes) = item.value else { return .error(.wrongType) }
            guard let parsed = RedisNumber.parseInteger(bytes) else { return .error(.notAnInteger) }
            base = parsed
        }
        let (sum, overflow) = base.addingReportingOverflow(delta)
        if overflow { return .error(.overflow) }
        items[key] = Item(value: .string(Array(String(sum).utf8)), expireAt: item?.expireAt ?? 0)
        return .integer(sum)
    }

    private mutating func incrementByFloat(_ key: [UInt8], _ delta: Double, _ now: UInt64) -> CommandResult {
        let item = live(key, now)
        var base = 0.0
        if let item {
            guard case .string(let bytes) = item.value else { return .error(.wrongType) }
            guard let parsed = RedisNumber.parseFloat(bytes) else { return .error(.notAFloat) }
            base = parsed
        }
        if delta.isNaN { return .error(.notAFloat) }
        guard delta.isFinite, (base + delta).isFinite else { return .error(.nanOrInfinity) }
        let text = Array(RedisNumber.format(base + delta).utf8)
        items[key] = Item(value: .string(text), expireAt: item?.expireAt ?? 0)
        return .bulk(text)
    }
}
