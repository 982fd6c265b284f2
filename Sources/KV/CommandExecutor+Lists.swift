import Storage

extension CommandExecutor {
    /// The list at `key` as a write sees it.
    enum ListLookup {
        case missing
        case wrongType
        case list(ListHeader, expireAt: UInt64)
    }

    func liveList(_ key: [UInt8]) throws(StorageError) -> ListLookup {
        guard let current = try live(key) else { return .missing }
        guard case .list(let header) = current.value else { return .wrongType }
        return .list(header, expireAt: current.expireAtMillis)
    }

    func putElement(_ header: ListHeader, _ index: UInt64, _ element: [UInt8], _ ts: UInt64) throws(StorageError) {
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, header.part(index)),
                                          commitTS: ts, body: element))
    }

    func removeElement(_ header: ListHeader, _ index: UInt64, _ ts: UInt64) throws(StorageError) {
        try transaction.put(StoredVersion(key: RedisKeyspace.element(header.generation, header.part(index)),
                                          commitTS: ts, isTombstone: true))
    }

    /// Writes the list's metadata, or deletes the key when the list is empty.
    func storeList(_ key: [UInt8], _ header: ListHeader, expireAt: UInt64, _ ts: UInt64) throws(StorageError) {
        if header.count == 0 { try delete(key, ts: ts) } else { try write(key, .list(header), expireAt: expireAt, ts: ts) }
    }

    /// Tombstones every element row of `generation` (its collection was deleted or replaced).
    func releaseElements(of generation: UInt64, _ ts: UInt64) throws(StorageError) {
        try forEachElementRow(of: generation) { (part, _) throws(StorageError) in
            try transaction.put(StoredVersion(key: RedisKeyspace.element(generation, part), commitTS: ts, isTombstone: true))
        }
    }

    func executeList(_ command: ListCommand, _ ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .push(let key, let elements, let left, let onlyIfExists):
            var header: ListHeader
            var expireAt: UInt64 = 0
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing:
                guard !onlyIfExists else { return .integer(0) }
                header = ListHeader(generation: ts, head: ListHeader.firstPosition, count: 0)
            case .list(let existing, let deadline):
                header = existing
                expireAt = deadline
            }
            try push(elements, onto: &header, left: left, ts)
            try storeList(key, header, expireAt: expireAt, ts)
            return .integer(Int64(header.count))
        case .pop(let key, let left, let count):
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing: return count == nil ? .null : .reply(.nullArray)
            case .list(var header, let expireAt):
                guard count != 0 else { return .array([]) }
                let popped = try pop(min(UInt64(count ?? 1), header.count), from: &header, left: left, ts)
                try storeList(key, header, expireAt: expireAt, ts)
                guard count != nil else { return .bulk(popped[0]) }
                return .array(popped.map(CommandResult.bulk))
            }
        case .set(let key, let index, let element):
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing: return .error(.noSuchKey)
            case .list(let header, let expireAt):
                guard let position = ListHeader.position(index, count: header.count) else { return .error(.indexOutOfRange) }
                try putElement(header, position, element, ts)
                try write(key, .list(header), expireAt: expireAt, ts: ts)
                return .ok
            }
        case .insert(let key, let before, let pivot, let element):
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing: return .integer(0)
            case .list(var header, let expireAt):
                let elements = try listElements(header, 0..<header.count)
                guard let found = elements.firstIndex(of: pivot) else { return .integer(-1) }
                try insert(element, at: UInt64(found) + (before ? 0 : 1), into: &header, elements, ts)
                try storeList(key, header, expireAt: expireAt, ts)
                return .integer(Int64(header.count))
            }
        case .remove(let key, let count, let element):
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing: return .integer(0)
            case .list(var header, let expireAt):
                let elements = try listElements(header, 0..<header.count)
                let kept = Self.removing(element, count: count, from: elements)
                let removed = elements.count - kept.count
                guard removed > 0 else { return .integer(0) }
                try rewrite(&header, from: elements, to: kept, ts)
                try storeList(key, header, expireAt: expireAt, ts)
                return .integer(Int64(removed))
            }
        case .trim(let key, let start, let stop):
            switch try liveList(key) {
            case .wrongType: return .error(.wrongType)
            case .missing: return .ok
            case .list(var header, let expireAt):
                let keep = ListHeader.indexRange(start, stop, count: header.count)
                for index in keep.upperBound..<header.count { try removeElement(header, index, ts) }
                for index in 0..<keep.lowerBound { try removeElement(header, index, ts) }
                header.count = UInt64(keep.count)
                header.head &+= keep.lowerBound
                try storeList(key, header, expireAt: expireAt, ts)
                return .ok
            }
        case .move(let source, let destination, let fromLeft, let toLeft):
            return try move(source, destination, fromLeft: fromLeft, toLeft: toLeft, ts)
        case .multiPop(let keys, let left, let count):
            for key in keys {
                switch try liveList(key) {
                case .wrongType: return .error(.wrongType)
                case .missing: continue
                case .list(var header, let expireAt):
                    let popped = try pop(min(UInt64(count), header.count), from: &header, left: left, ts)
                    try storeList(key, header, expireAt: expireAt, ts)
                    return .array([.bulk(key), .array(popped.map(CommandResult.bulk))])
                }
            }
            return .reply(.nullArray)
        }
    }

    private func move(_ source: [UInt8], _ destination: [UInt8], fromLeft: Bool, toLeft: Bool, _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        var header: ListHeader
        let expireAt: UInt64
        switch try liveList(source) {
        case .wrongType: return .error(.wrongType)
        case .missing: return .null
        case .list(let existing, let deadline):
            header = existing
            expireAt = deadline
        }
        if source == destination {
            let element = try pop(1, from: &header, left: fromLeft, ts)
            try push(element, onto: &header, left: toLeft, ts)
            try write(source, .list(header), expireAt: expireAt, ts: ts)
            return .bulk(element[0])
        }
        var target: ListHeader
        var targetExpireAt: UInt64 = 0
        switch try liveList(destination) {
        case .wrongType: return .error(.wrongType)
        case .missing: target = ListHeader(generation: ts, head: ListHeader.firstPosition, count: 0)
        case .list(let existing, let deadline):
            target = existing
            targetExpireAt = deadline
        }
        let element = try pop(1, from: &header, left: fromLeft, ts)
        try storeList(source, header, expireAt: expireAt, ts)
        try push(element, onto: &target, left: toLeft, ts)
        try storeList(destination, target, expireAt: targetExpireAt, ts)
        return .bulk(element[0])
    }

    /// Refuses growth past either end of the position space (2^63 pushes at one end: not reachable in
    /// practice, but never wrapped around silently).
    private func makeRoom(_ count: UInt64, in header: ListHeader, left: Bool) throws(StorageError) {
        let room = left ? header.head : UInt64.max - header.head - header.count
        guard room >= count else {
            throw StorageError.corruptRecord(reason: "a list reached the end of its position space")
        }
    }

    private func push(_ elements: [[UInt8]], onto header: inout ListHeader, left: Bool, _ ts: UInt64)
        throws(StorageError)
    {
        try makeRoom(UInt64(elements.count), in: header, left: left)
        for element in elements {
            if left {
                header.head -= 1
                header.count += 1
                try putElement(header, 0, element, ts)
            } else {
                header.count += 1
                try putElement(header, header.count - 1, element, ts)
            }
        }
    }

    /// Removes `count` (≤ the length) elements from one end and returns them, nearest the end first.
    private func pop(_ count: UInt64, from header: inout ListHeader, left: Bool, _ ts: UInt64) throws(StorageError)
        -> [[UInt8]]
    {
        let indexes = left ? 0..<count : header.count - count..<header.count
        let elements = try listElements(header, indexes)
        for index in indexes { try removeElement(header, index, ts) }
        header.count -= count
        if left { header.head &+= count }
        return left ? elements : elements.reversed()
    }

    /// Inserts `element` at `index` (0…count), shifting the shorter side of the list by one.
    private func insert(_ element: [UInt8], at index: UInt64, into header: inout ListHeader, _ elements: [[UInt8]],
                        _ ts: UInt64) throws(StorageError)
    {
        if index < header.count - index {
            try makeRoom(1, in: header, left: true)
            header.head -= 1
            header.count += 1
            for position in 0..<index { try putElement(header, position, elements[Int(position)], ts) }
        } else {
            try makeRoom(1, in: header, left: false)
            header.count += 1
            for position in stride(from: header.count - 1, to: index, by: -1) {
                try putElement(header, position, elements[Int(position - 1)], ts)
            }
        }
        try putElement(header, index, element, ts)
    }

    /// Rewrites the list from `old` to `new` (a subsequence of it, same head): changed positions are
    /// rewritten, positions past the new end are removed.
    private func rewrite(_ header: inout ListHeader, from old: [[UInt8]], to new: [[UInt8]], _ ts: UInt64)
        throws(StorageError)
    {
        for (position, element) in new.enumerated() where old[position] != element {
            try putElement(header, UInt64(position), element, ts)
        }
        for position in new.count..<old.count { try removeElement(header, UInt64(position), ts) }
        header.count = UInt64(new.count)
    }

    /// The list without the first `count` occurrences of `element` (the last `-count` when negative; every
    /// one when 0).
    static func removing(_ element: [UInt8], count: Int64, from elements: [[UInt8]]) -> [[UInt8]] {
        var remaining = count == 0 ? UInt64.max : count.magnitude
        var kept: [[UInt8]] = []
        kept.reserveCapacity(elements.count)
        if count >= 0 {
            for candidate in elements {
                if remaining > 0, candidate == element { remaining -= 1 } else { kept.append(candidate) }
            }
        } else {
            for candidate in elements.reversed() {
                if remaining > 0, candidate == element { remaining -= 1 } else { kept.append(candidate) }
            }
            kept.reverse()
        }
        return kept
    }
}
