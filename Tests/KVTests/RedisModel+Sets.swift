import KV

/// The model's sets: plain Swift sets.
extension RedisModel {
    /// The live set at `key` (empty when missing); `nil` when the key holds another type.
    func setMembers(_ key: [UInt8], _ now: UInt64) -> Set<[UInt8]>? {
        guard let item = live(key, now) else { return [] }
        guard case .set = item.value else { return nil }
        return item.members
    }

    mutating func storeSet(_ key: [UInt8], _ members: Set<[UInt8]>, _ now: UInt64, keepTTL: Bool = true) {
        guard !members.isEmpty else { items[key] = nil; return }
        let header = SetHeader(generation: 0, indexKeyID: 0, count: UInt64(members.count))
        let expireAt = keepTTL ? live(key, now)?.expireAt ?? 0 : 0
        items[key] = Item(value: .set(header), expireAt: expireAt, members: members)
    }

    /// Applies a set command; SPOP is not modelled (which members it takes depends on element names).
    mutating func applySet(_ command: SetCommand, now: UInt64) -> CommandResult {
        switch command {
        case .add(let key, let added):
            guard var members = setMembers(key, now) else { return .error(.wrongType) }
            let before = members.count
            members.formUnion(added)
            if members.count != before { storeSet(key, members, now) }
            return .integer(Int64(members.count - before))
        case .remove(let key, let removed):
            guard var members = setMembers(key, now) else { return .error(.wrongType) }
            let before = members.count
            members.subtract(removed)
            if members.count != before { storeSet(key, members, now) }
            return .integer(Int64(before - members.count))
        case .pop:
            preconditionFailure("SPOP is tested on its own")
        case .move(let source, let destination, let member):
            guard live(source, now) != nil else { return .integer(0) }
            guard var from = setMembers(source, now), var to = setMembers(destination, now) else {
                return .error(.wrongType)
            }
            if source == destination { return .integer(from.contains(member) ? 1 : 0) }
            guard from.remove(member) != nil else { return .integer(0) }
            storeSet(source, from, now)
            to.insert(member)
            storeSet(destination, to, now)
            return .integer(1)
        case .store(let operation, let destination, let keys):
            var sources: [Set<[UInt8]>] = []
            for key in keys {
                guard let members = setMembers(key, now) else { return .error(.wrongType) }
                sources.append(members)
            }
            var result: Set<[UInt8]>
            switch operation {
            case .union: result = sources.reduce(into: []) { $0.formUnion($1) }
            case .intersection: result = sources.dropFirst().reduce(sources[0]) { $0.intersection($1) }
            case .difference: result = sources.dropFirst().reduce(sources[0]) { $0.subtracting($1) }
            }
            items[destination] = nil
            storeSet(destination, result, now, keepTTL: false)
            return .integer(Int64(result.count))
        }
    }
}
