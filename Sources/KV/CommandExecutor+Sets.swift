import DurableIO
import Storage

extension CommandExecutor {
    /// The set at `key` as a write sees it.
    enum SetLookup {
        case missing
        case wrongType
        case set(SetHeader, expireAt: UInt64)
    }

    func liveSet(_ key: [UInt8]) throws(StorageError) -> SetLookup {
        guard let current = try live(key) else { return .missing }
        guard case .set(let header) = current.value else { return .wrongType }
        return .set(header, expireAt: current.expireAtMillis)
    }

    /// The set at `key` for a command that adds members to it. A set still named with an older index (created
    /// before the cluster had its index key) first moves, once, to the current one: a new generation `ts`
    /// whose rows are named under the index key, so no member added after the key exists is named without
    /// it. A command creates at most one generation (this, or a new set), so `ts` names it alone.
    func liveSetForAdding(_ key: [UInt8], _ ts: UInt64) throws(StorageError) -> SetLookup {
        let lookup = try liveSet(key)
        let index = indexes.current
        guard case .set(let header, let expireAt) = lookup, header.indexKeyID != index.keyID, index.keyID != 0 else {
            return lookup
        }
        var moved = SetHeader(generation: ts, indexKeyID: index.keyID, count: 0)
        for member in try setMembers(header) { _ = try addMember(member, to: &moved, ts) }
        try write(key, .set(moved), expireAt: expireAt, ts: ts)
        return .set(moved, expireAt: expireAt)
    }

    /// A new, empty set created by the command at `ts`, named with the current element index.
    func newSet(_ ts: UInt64) -> SetHeader {
        SetHeader(generation: ts, indexKeyID: indexes.current.keyID, count: 0)
    }

    /// Adds `member` unless present; whether it was added.
    func addMember(_ member: [UInt8], to header: inout SetHeader, _ ts: UInt64) throws(StorageError) -> Bool {
        guard try !setContains(header, member) else { return false }
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, try memberPart(header, member)),
                                          commitTS: ts, body: member))
        header.count += 1
        return true
    }

    /// Removes `member` when present; whether it was removed.
    func removeMember(_ member: [UInt8], from header: inout SetHeader, _ ts: UInt64) throws(StorageError) -> Bool {
        guard try setContains(header, member) else { return false }
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, try memberPart(header, member)),
                                          commitTS: ts, isTombstone: true))
        header.count -= 1
        return true
    }

    /// Writes the set's metadata, or deletes the key when the set is empty.
    func storeSet(_ key: [UInt8], _ header: SetHeader, expireAt: UInt64, _ ts: UInt64) throws(StorageError) {
        if header.count == 0 { try delete(key, ts: ts) } else { try write(key, .set(header), expireAt: expireAt, ts: ts) }
    }

    func executeSet(_ command: SetCommand, _ ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .add(let key, let members):
            var header: SetHeader
            var expireAt: UInt64 = 0
            switch try liveSetForAdding(key, ts) {
            case .wrongType: return .error(.wrongType)
            case .missing: header = newSet(ts)
            case .set(let existing, let deadline):
                header = existing
                expireAt = deadline
            }
            var added: Int64 = 0
            for member in members where try addMember(member, to: &header, ts) { added += 1 }
            if added > 0 { try storeSet(key, header, expireAt: expireAt, ts) }
            return .integer(added)
        case .remove(let key, let members):
            let lookup = try liveSet(key)
            guard case .set(var header, let expireAt) = lookup else {
                return lookup.isWrongType ? .error(.wrongType) : .integer(0)
            }
            var removed: Int64 = 0
            for member in members where try removeMember(member, from: &header, ts) { removed += 1 }
            if removed > 0 { try storeSet(key, header, expireAt: expireAt, ts) }
            return .integer(removed)
        case .pop(let key, let count):
            return try pop(key, count: count, ts)
        case .move(let source, let destination, let member):
            return try move(member, from: source, to: destination, ts)
        case .store(let operation, let destination, let keys):
            var sources: [SetHeader?] = []
            for key in keys {
                switch try liveSet(key) {
                case .wrongType: return .error(.wrongType)
                case .missing: sources.append(nil)
                case .set(let header, _): sources.append(header)
                }
            }
            let result = try SetAlgebra.combine(operation, sources, in: self)
            var header = newSet(ts)
            // The destination is replaced whatever it held; the old value's rows go with it.
            try releaseDestination(destination, ts)
            for member in result { _ = try addMember(member, to: &header, ts) }
            try storeSet(destination, header, expireAt: 0, ts)
            return .integer(Int64(header.count))
        }
    }

    /// Deletes `key`'s value (of any type) before a STORE command writes its result there.
    private func releaseDestination(_ key: [UInt8], _ ts: UInt64) throws(StorageError) {
        if try live(key) != nil { try delete(key, ts: ts) }
    }

    /// SPOP: removes `count` members (one without a count), chosen from a point in the name space derived
    /// from the commit timestamp, so every replica removes the same ones.
    private func pop(_ key: [UInt8], count: Int64?, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let lookup = try liveSet(key)
        guard case .set(var header, let expireAt) = lookup else {
            if lookup.isWrongType { return .error(.wrongType) }
            return count == nil ? .null : .reply(.set([]))
        }
        if count == 0 { return .reply(.set([])) }
        let wanted = Int(clamping: min(UInt64(count ?? 1), header.count))
        let chosen = try members(of: header, startingAt: SetAlgebra.point(seed: ts), count: wanted)
        for member in chosen { _ = try removeMember(member, from: &header, ts) }
        try storeSet(key, header, expireAt: expireAt, ts)
        guard count != nil else { return .bulk(chosen[0]) }
        return .reply(.set(chosen.map { .bulkString($0) }))
    }

    private func move(_ member: [UInt8], from source: [UInt8], to destination: [UInt8], _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        let sourceLookup = try liveSet(source)
        guard case .set(var from, let fromExpireAt) = sourceLookup else {
            return sourceLookup.isWrongType ? .error(.wrongType) : .integer(0)
        }
        if try liveSet(destination).isWrongType { return .error(.wrongType) }
        if source == destination { return .integer(try setContains(from, member) ? 1 : 0) }
        guard try removeMember(member, from: &from, ts) else { return .integer(0) }
        try storeSet(source, from, expireAt: fromExpireAt, ts)
        var to: SetHeader
        var toExpireAt: UInt64 = 0
        if case .set(let existing, let deadline) = try liveSetForAdding(destination, ts) {
            to = existing
            toExpireAt = deadline
        } else {
            to = newSet(ts)
        }
        _ = try addMember(member, to: &to, ts)
        try storeSet(destination, to, expireAt: toExpireAt, ts)
        return .integer(1)
    }
}

extension CommandExecutor.SetLookup {
    var isWrongType: Bool {
        if case .wrongType = self { return true }
        return false
    }
}

/// SINTER, SUNION and SDIFF over sets read through any ``ElementRows``, and the deterministic choices of
/// SPOP.
public enum SetAlgebra {
    /// The members of the combination, in the first set's order (union: each set's new members after it);
    /// `nil` sources are missing keys (empty sets).
    public static func combine<Rows: ElementRows>(_ operation: SetOperation, _ sources: [SetHeader?], in rows: Rows)
        throws(StorageError) -> [[UInt8]]
    {
        switch operation {
        case .union:
            var seen = Set<[UInt8]>()
            var result: [[UInt8]] = []
            for case let header? in sources {
                for member in try rows.setMembers(header) where seen.insert(member).inserted { result.append(member) }
            }
            return result
        case .intersection:
            guard !sources.contains(where: { $0 == nil }), !sources.isEmpty else { return [] }
            let ordered = sources.compactMap { $0 }.sorted { $0.count < $1.count }
            var result: [[UInt8]] = []
            for member in try rows.setMembers(ordered[0]) {
                var everywhere = true
                for other in ordered.dropFirst() where try !rows.setContains(other, member) {
                    everywhere = false
                    break
                }
                if everywhere { result.append(member) }
            }
            return result
        case .difference:
            guard let first = sources.first, let first else { return [] }
            var result: [[UInt8]] = []
            for member in try rows.setMembers(first) {
                var elsewhere = false
                for case let other? in sources.dropFirst() where try rows.setContains(other, member) {
                    elsewhere = true
                    break
                }
                if !elsewhere { result.append(member) }
            }
            return result
        }
    }

    /// A point in the 16-byte name space drawn from `seed` (SplitMix64), where SPOP starts.
    static func point(seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            bytes.appendBigEndian(z)
        }
        return bytes
    }
}
