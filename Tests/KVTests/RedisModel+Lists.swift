import KV

/// The model's lists: plain arrays, edited the way the Redis documentation describes each command.
extension RedisModel {
    /// The live list at `key` (`[]` when missing); `nil` when the key holds another type.
    func listElements(_ key: [UInt8], _ now: UInt64) -> [[UInt8]]? {
        guard let item = live(key, now) else { return [] }
        guard case .list = item.value else { return nil }
        return item.elements
    }

    mutating func storeList(_ key: [UInt8], _ elements: [[UInt8]], _ now: UInt64) {
        guard !elements.isEmpty else { items[key] = nil; return }
        let header = ListHeader(generation: 0, head: 0, count: UInt64(elements.count))
        items[key] = Item(value: .list(header), expireAt: live(key, now)?.expireAt ?? 0, elements: elements)
    }

    mutating func applyList(_ command: ListCommand, now: UInt64) -> CommandResult {
        switch command {
        case .push(let key, let pushed, let left, let onlyIfExists):
            guard var list = listElements(key, now) else { return .error(.wrongType) }
            if onlyIfExists && list.isEmpty { return .integer(0) }
            for element in pushed { if left { list.insert(element, at: 0) } else { list.append(element) } }
            storeList(key, list, now)
            return .integer(Int64(list.count))
        case .pop(let key, let left, let count):
            guard var list = listElements(key, now) else { return .error(.wrongType) }
            if list.isEmpty { return count == nil ? .null : .reply(.nullArray) }
            var popped: [[UInt8]] = []
            for _ in 0..<min(Int(count ?? 1), list.count) { popped.append(left ? list.removeFirst() : list.removeLast()) }
            storeList(key, list, now)
            return count == nil ? .bulk(popped[0]) : .array(popped.map(CommandResult.bulk))
        case .set(let key, let index, let element):
            guard var list = listElements(key, now) else { return .error(.wrongType) }
            if list.isEmpty { return .error(.noSuchKey) }
            let position = index < 0 ? list.count + Int(index) : Int(index)
            guard list.indices.contains(position) else { return .error(.indexOutOfRange) }
            list[position] = element
            storeList(key, list, now)
            return .ok
        case .insert(let key, let before, let pivot, let element):
            guard var list = listElements(key, now) else { return .error(.wrongType) }
            if list.isEmpty { return .integer(0) }
            guard let found = list.firstIndex(of: pivot) else { return .integer(-1) }
            list.insert(element, at: before ? found : found + 1)
            storeList(key, list, now)
            return .integer(Int64(list.count))
        case .remove(let key, let count, let element):
            guard let list = listElements(key, now) else { return .error(.wrongType) }
            var remaining = count == 0 ? Int.max : Int(count.magnitude)
            var kept: [[UInt8]] = []
            for candidate in count < 0 ? list.reversed() : list {
                if remaining > 0 && candidate == element { remaining -= 1 } else { kept.append(candidate) }
            }
            if count < 0 { kept.reverse() }
            if kept.count != list.count { storeList(key, kept, now) }
            return .integer(Int64(list.count - kept.count))
        case .trim(let key, let start, let stop):
            guard let list = listElements(key, now) else { return .error(.wrongType) }
            if list.isEmpty { return .ok }
            let count = list.count
            let first = max(start < 0 ? count + Int(start) : Int(start), 0)
            let last = min(stop < 0 ? count + Int(stop) : Int(stop), count - 1)
            storeList(key, first <= last && first < count ? Array(list[first...last]) : [], now)
            return .ok
        case .move(let source, let destination, let fromLeft, let toLeft):
            guard var list = listElements(source, now) else { return .error(.wrongType) }
            if list.isEmpty { return .null }
            if source == destination {
                let element = fromLeft ? list.removeFirst() : list.removeLast()
                if toLeft { list.insert(element, at: 0) } else { list.append(element) }
                storeList(source, list, now)
                return .bulk(element)
            }
            guard listElements(destination, now) != nil else { return .error(.wrongType) }
            let element = fromLeft ? list.removeFirst() : list.removeLast()
            storeList(source, list, now)
            var target = listElements(destination, now)!
            if toLeft { target.insert(element, at: 0) } else { target.append(element) }
            storeList(destination, target, now)
            return .bulk(element)
        case .multiPop(let keys, let left, let count):
            for key in keys {
                guard let list = listElements(key, now) else { return .error(.wrongType) }
                if list.isEmpty { continue }
                let taken = min(Int(count), list.count)
                let popped = left ? Array(list.prefix(taken)) : Array(list.suffix(taken).reversed())
                storeList(key, left ? Array(list.dropFirst(taken)) : Array(list.dropLast(taken)), now)
                return .array([.bulk(key), .array(popped.map(CommandResult.bulk))])
            }
            return .reply(.nullArray)
        }
    }
}
