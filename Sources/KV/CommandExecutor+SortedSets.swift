import RESP
import Storage

extension CommandExecutor {
    /// The sorted set at `key` as a write sees it.
    enum SortedSetLookup {
        case missing
        case wrongType
        case sortedSet(SortedSetHeader, expireAt: UInt64)
    }

    func liveSortedSet(_ key: [UInt8]) throws(StorageError) -> SortedSetLookup {
        guard let current = try live(key) else { return .missing }
        guard case .sortedSet(let header) = current.value else { return .wrongType }
        return .sortedSet(header, expireAt: current.expireAtMillis)
    }

    /// An editor of the sorted set at `key` (found as `lookup`) for a command that adds members (a new set when
    /// missing); `nil` when the key holds another type. A sorted set named with an older index moves to the
    /// current one first, as sets do (``liveSetForAdding(_:_:)``): a new generation `ts` with the nodes copied
    /// and the member rows renamed.
    func sortedSetForAdding(_ key: [UInt8], _ lookup: SortedSetLookup, _ ts: UInt64) throws(StorageError)
        -> (SortedSetEditor, expireAt: UInt64)?
    {
        switch lookup {
        case .wrongType: return nil
        case .missing: return (SortedSetEditor(newAt: ts, rows: self), 0)
        case .sortedSet(let header, let expireAt):
            let index = indexes.current
            guard header.indexKeyID != index.keyID, index.keyID != 0 else { return (SortedSetEditor(header, rows: self), expireAt) }
            var moved = header
            moved.generation = ts
            moved.indexKeyID = index.keyID
            try forEachElementRow(of: header.generation) { (part, body) throws(StorageError) in
                var newPart = part
                if part.first == SortedSetParts.memberTag {
                    newPart = SortedSetParts.member(index.name(try SortedSetParts.decodeMemberBody(body).member))
                }
                try transaction.put(StoredVersion(key: RedisKeyspace.element(ts, newPart), commitTS: ts, body: body))
            }
            try write(key, .sortedSet(moved), expireAt: expireAt, ts: ts)
            return (SortedSetEditor(moved, rows: self), expireAt)
        }
    }

    /// Writes the editor's rows and the metadata, or deletes the key when the sorted set is empty.
    func storeSortedSet(_ key: [UInt8], _ editor: SortedSetEditor, expireAt: UInt64, _ ts: UInt64) throws(StorageError) {
        try editor.flush(ts)
        if editor.header.count == 0 {
            if try live(key) != nil { try delete(key, ts: ts) }
        } else {
            try write(key, .sortedSet(editor.header), expireAt: expireAt, ts: ts)
        }
    }

    func executeSortedSet(_ command: SortedSetCommand, _ ts: UInt64) throws(StorageError) -> CommandResult {
        switch command {
        case .add(let key, let entries, let options):
            return try add(key, entries, options, ts)
        case .remove(let key, let members):
            let lookup = try liveSortedSet(key)
            guard case .sortedSet(let header, let expireAt) = lookup else {
                return lookup.isWrongType ? .error(.wrongType) : .integer(0)
            }
            let editor = SortedSetEditor(header, rows: self)
            var removed: Int64 = 0
            for member in members {
                guard let score = try editor.score(member) else { continue }
                try editor.remove(member, score: score)
                removed += 1
            }
            if removed > 0 { try storeSortedSet(key, editor, expireAt: expireAt, ts) }
            return .integer(removed)
        case .removeRange(let key, let range):
            let lookup = try liveSortedSet(key)
            guard case .sortedSet(let header, let expireAt) = lookup else {
                return lookup.isWrongType ? .error(.wrongType) : .integer(0)
            }
            let doomed = try sortedSetQuery(header, SortedSetQuery(range))
            guard !doomed.isEmpty else { return .integer(0) }
            let editor = SortedSetEditor(header, rows: self)
            for entry in doomed { try editor.remove(entry.member, score: entry.score) }
            try storeSortedSet(key, editor, expireAt: expireAt, ts)
            return .integer(Int64(doomed.count))
        case .pop(let keys, let highest, let count, let form):
            return try pop(keys, highest: highest, count: count, form: form, ts)
        case .rangeStore(let destination, let source, let query):
            var entries: [ScoredMember] = []
            switch try liveSortedSet(source) {
            case .wrongType: return .error(.wrongType)
            case .missing: break
            case .sortedSet(let header, _): entries = try sortedSetQuery(header, query)
            }
            return try replace(destination, with: entries, ts)
        case .store(let operation, let destination, let keys, let weights, let aggregate):
            var sources: [ScoredSource?] = []
            for key in keys {
                guard let current = try live(key) else {
                    sources.append(nil)
                    continue
                }
                switch current.value {
                case .set(let header): sources.append(.set(header))
                case .sortedSet(let header): sources.append(.sortedSet(header))
                default: return .error(.wrongType)
                }
            }
            let entries = try SortedSetAlgebra.combine(operation, sources, weights: weights, aggregate: aggregate, in: self)
            return try replace(destination, with: entries, ts)
        }
    }

    /// ZADD with its options (ZINCRBY is ZADD INCR).
    private func add(_ key: [UInt8], _ entries: [ScoredMember], _ options: SortedSetAddOptions, _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        let increment = options.contains(.increment)
        let missing: CommandResult = increment ? .null : .integer(0)
        let lookup = try liveSortedSet(key)
        if lookup.isWrongType { return .error(.wrongType) }
        if case .missing = lookup, options.contains(.onlyExisting) { return missing }
        guard let (editor, expireAt) = try sortedSetForAdding(key, lookup, ts) else { return .error(.wrongType) }
        var added: Int64 = 0, changed: Int64 = 0
        var newScore: Double?
        for entry in entries {
            var score = entry.score
            newScore = nil
            if let old = try editor.score(entry.member) {
                if options.contains(.onlyNew) { continue }
                if increment {
                    score += old
                    guard !score.isNaN else { return .error(.scoreNotANumber) }
                }
                if options.contains(.greater), !(score > old) { continue }
                if options.contains(.less), !(score < old) { continue }
                newScore = score
                if score != old {
                    try editor.set(entry.member, score: score, old: old)
                    changed += 1
                }
            } else {
                if options.contains(.onlyExisting) { continue }
                try editor.set(entry.member, score: score, old: nil)
                newScore = score
                added += 1
            }
        }
        if added + changed > 0 { try storeSortedSet(key, editor, expireAt: expireAt, ts) }
        if increment { return newScore.map { .reply(.double($0)) } ?? .null }
        return .integer(options.contains(.changed) ? added + changed : added)
    }

    /// ZPOPMIN, ZPOPMAX, ZMPOP and the blocking pops' attempts: the first key that exists decides (another
    /// type answers WRONGTYPE), as in Redis.
    private func pop(_ keys: [[UInt8]], highest: Bool, count: Int64?, form: SortedSetPopForm, _ ts: UInt64)
        throws(StorageError) -> CommandResult
    {
        for key in keys {
            let lookup = try liveSortedSet(key)
            if lookup.isWrongType { return .error(.wrongType) }
            guard case .sortedSet(let header, let expireAt) = lookup else { continue }
            if count == 0 { return .reply(.array([])) }
            let wanted = min(UInt64(count ?? 1), header.count)
            let ranks = highest ? header.count - wanted..<header.count : 0..<wanted
            var popped = try sortedSetEntries(header, ranks)
            if highest { popped.reverse() }
            let editor = SortedSetEditor(header, rows: self)
            for entry in popped { try editor.remove(entry.member, score: entry.score) }
            try storeSortedSet(key, editor, expireAt: expireAt, ts)
            let pairs = popped.map { RESPValue.Pair(.bulkString($0.member), .double($0.score)) }
            switch form {
            case .single:
                return .reply(count == nil ? .array([pairs[0].key, pairs[0].value]) : .pairs(pairs))
            case .multi:
                return .reply(.array([.bulkString(key), .array(pairs.map { .array([$0.key, $0.value]) })]))
            case .keyed:
                return .reply(.array([.bulkString(key), pairs[0].key, pairs[0].value]))
            }
        }
        return .reply(form == .single ? .array([]) : .nullArray)
    }

    /// Replaces `destination` (any type) with a sorted set of `entries` (in order); deletes it when there are
    /// none. Answers the new size.
    private func replace(_ destination: [UInt8], with entries: [ScoredMember], _ ts: UInt64) throws(StorageError)
        -> CommandResult
    {
        if try live(destination) != nil { try delete(destination, ts: ts) }
        guard !entries.isEmpty else { return .integer(0) }
        let editor = SortedSetEditor(newAt: ts, rows: self)
        for entry in entries { try editor.set(entry.member, score: entry.score, old: nil) }
        try storeSortedSet(destination, editor, expireAt: 0, ts)
        return .integer(Int64(entries.count))
    }
}

extension CommandExecutor.SortedSetLookup {
    var isWrongType: Bool {
        if case .wrongType = self { return true }
        return false
    }
}
