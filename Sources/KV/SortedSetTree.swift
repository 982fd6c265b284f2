import Storage

/// Reads the ordered tree of one sorted set (docs/formats.md §2a): the nodes as stored, or as a command
/// being executed has changed them.
protocol SortedSetNodes {
    var header: SortedSetHeader { get }
    func node(_ id: UInt64) throws(StorageError) -> SortedSetNode
}

/// The tree as the element rows hold it.
struct StoredSortedSet<Rows: ElementRows>: SortedSetNodes {
    let rows: Rows
    let header: SortedSetHeader

    func node(_ id: UInt64) throws(StorageError) -> SortedSetNode {
        guard let body = try rows.elementRow(of: header.generation, part: SortedSetParts.node(id)) else {
            throw StorageError.corruptRecord(reason: "a sorted set is missing a node its tree names")
        }
        return try SortedSetNode(decoding: body)
    }
}

extension SortedSetNodes {
    /// How many members, from the first, satisfy `precedes` (true for a prefix of the order).
    func countLeading(where precedes: (ScoredMember) -> Bool) throws(StorageError) -> UInt64 {
        var total: UInt64 = 0
        var node = try node(header.root)
        while true {
            switch node {
            case .leaf(let entries):
                return total + UInt64(entries.prefix(while: precedes).count)
            case .inner(let children):
                guard let last = children.lastIndex(where: { precedes($0.first) }) else { return total }
                total += children[..<last].reduce(0) { $0 + $1.count }
                node = try self.node(children[last].id)
            }
        }
    }

    /// The members at `ranks` (within `0..<count`), in order.
    func entries(_ ranks: Range<UInt64>) throws(StorageError) -> [ScoredMember] {
        var result: [ScoredMember] = []
        result.reserveCapacity(Int(clamping: min(ranks.count, 1 << 16)))
        var skip = ranks.lowerBound, take = UInt64(ranks.count)
        func collect(_ node: SortedSetNode) throws(StorageError) {
            switch node {
            case .leaf(let entries):
                let start = Int(skip), end = min(entries.count, start + Int(take))
                if start < end { result.append(contentsOf: entries[start..<end]) }
                take -= UInt64(max(0, end - start))
                skip = 0
            case .inner(let children):
                for child in children where take > 0 {
                    if skip >= child.count {
                        skip -= child.count
                        continue
                    }
                    try collect(try self.node(child.id))
                }
            }
        }
        if take > 0 { try collect(try node(header.root)) }
        return result
    }

    /// The forward ranks a query covers (before REV reverses the reply), LIMIT applied.
    func ranks(of query: SortedSetQuery) throws(StorageError) -> Range<UInt64> {
        let count = header.count
        var lower: UInt64, upper: UInt64
        switch query.range {
        case .rank(let start, let stop):
            // ZRANGE reads ranks as LRANGE reads indexes.
            let ranks = ListHeader.indexRange(start, stop, count: count)
            guard !ranks.isEmpty else { return 0..<0 }
            lower = query.reverse ? count - ranks.upperBound : ranks.lowerBound
            upper = query.reverse ? count - ranks.lowerBound : ranks.upperBound
        case .score(let min, let max):
            lower = try countLeading { !min.admitsAbove($0.score) }
            upper = try countLeading { max.admitsBelow($0.score) }
        case .lex(let min, let max):
            lower = try countLeading { !min.admitsAbove($0.member) }
            upper = try countLeading { max.admitsBelow($0.member) }
        }
        guard lower < upper else { return 0..<0 }
        if let (offset, limit) = query.limit {
            guard offset >= 0, UInt64(offset) < upper - lower else { return 0..<0 }
            let available = upper - lower - UInt64(offset)
            let taken = limit < 0 ? available : min(available, UInt64(limit))
            if query.reverse {
                upper -= UInt64(offset)
                lower = upper - taken
            } else {
                lower += UInt64(offset)
                upper = lower + taken
            }
        }
        return lower..<upper
    }

    /// The members a query names, in reply order.
    func query(_ query: SortedSetQuery) throws(StorageError) -> [ScoredMember] {
        let found = try entries(try ranks(of: query))
        return query.reverse ? found.reversed() : found
    }

    /// The rank of `entry` (a member of the set).
    func rank(of entry: ScoredMember) throws(StorageError) -> UInt64 {
        try countLeading { $0 < entry }
    }
}

/// Changes one sorted set's tree and member rows within a command, then writes every changed row once.
///
/// Nodes read are kept, so a command that adds or removes many members reads each node once; node ids are
/// handed out from the metadata, so every replica builds the same tree.
final class SortedSetEditor: SortedSetNodes {
    /// Most entries a node holds before it splits (docs/formats.md §2a).
    static let maxEntries = 64
    /// Most entry bytes a node of two entries or more holds before it splits.
    static let maxEntryBytes = 16 * 1024
    /// Fewest entries a node other than the root holds before it is combined with a neighbour.
    static let minEntries = 16

    private let rows: CommandExecutor
    private(set) var header: SortedSetHeader
    private var nodes: [UInt64: SortedSetNode] = [:]
    private var changed: Set<UInt64> = []
    private var removed: Set<UInt64> = []
    /// Member rows written by this command: part → entry, or nil for a removed member.
    private var members: [[UInt8]: ScoredMember?] = [:]

    /// Edits the existing sorted set `header` describes.
    init(_ header: SortedSetHeader, rows: CommandExecutor) {
        self.header = header
        self.rows = rows
    }

    /// A new, empty sorted set of generation `ts`, named with the current element index.
    init(newAt ts: UInt64, rows: CommandExecutor) {
        header = SortedSetHeader(generation: ts, indexKeyID: rows.indexes.current.keyID, count: 0, root: 1, height: 1,
                                 nextNode: 2)
        self.rows = rows
        nodes[1] = .leaf([])
        changed.insert(1)
    }

    func node(_ id: UInt64) throws(StorageError) -> SortedSetNode {
        if let node = nodes[id] { return node }
        let node = try StoredSortedSet(rows: rows, header: header).node(id)
        nodes[id] = node
        return node
    }

    private func part(_ member: [UInt8]) throws(StorageError) -> [UInt8] {
        SortedSetParts.member(try rows.elementIndexes.index(header.indexKeyID).name(member))
    }

    /// The score of `member`, this command's changes included; `nil` when absent.
    func score(_ member: [UInt8]) throws(StorageError) -> Double? {
        let part = try part(member)
        if let written = members[part] { return written?.score }
        guard let body = try rows.elementRow(of: header.generation, part: part) else { return nil }
        let stored = try SortedSetParts.decodeMemberBody(body)
        guard stored.member == member else {
            throw StorageError.corruptRecord(reason: "two sorted set members share an element name")
        }
        return stored.score
    }

    /// Gives `member` the score `score`, adding it when absent (`old` is its current score, from ``score(_:)``).
    func set(_ member: [UInt8], score: Double, old: Double?) throws(StorageError) {
        let entry = ScoredMember(score: score, member: member)
        if let old {
            let previous = ScoredMember(score: old, member: member)
            guard previous != entry else { return }
            try removeFromTree(previous)
        } else {
            header.count += 1
        }
        try insertIntoTree(entry)
        members[try part(member)] = entry
    }

    /// Removes `member`, whose score is `score`.
    func remove(_ member: [UInt8], score: Double) throws(StorageError) {
        try removeFromTree(ScoredMember(score: score, member: member))
        header.count -= 1
        members[try part(member)] = .some(nil)
    }

    /// Writes every changed node and member row at `ts` (nothing when the set became empty: the caller deletes
    /// the key, and its element rows with it).
    func flush(_ ts: UInt64) throws(StorageError) {
        guard header.count > 0 else { return }
        let generation = header.generation
        for id in removed.sorted() {
            try rows.transaction.put(StoredVersion(key: RedisKeyspace.element(generation, SortedSetParts.node(id)),
                                                   commitTS: ts, isTombstone: true))
        }
        for id in changed.subtracting(removed).sorted() {
            guard let node = nodes[id] else { continue }
            try rows.transaction.put(StoredVersion(key: RedisKeyspace.element(generation, SortedSetParts.node(id)),
                                                   commitTS: ts, body: node.encoded()))
        }
        for (part, entry) in members.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let key = RedisKeyspace.element(generation, part)
            if let entry {
                try rows.transaction.put(StoredVersion(key: key, commitTS: ts, body: SortedSetParts.memberBody(entry)))
            } else {
                try rows.transaction.put(StoredVersion(key: key, commitTS: ts, isTombstone: true))
            }
        }
    }

    // MARK: - The tree

    /// The child of `children` whose range holds `entry`.
    private static func childIndex(_ children: [SortedSetNode.Child], for entry: ScoredMember) -> Int {
        children.lastIndex { !(entry < $0.first) } ?? 0
    }

    private func insertIntoTree(_ entry: ScoredMember) throws(StorageError) {
        var pieces = try insert(entry, into: header.root)
        while pieces.count > 1 {
            let root = allocate()
            pieces = store(root, .inner(pieces))
            header.root = root
            header.height += 1
        }
    }

    private func removeFromTree(_ entry: ScoredMember) throws(StorageError) {
        let pieces = try remove(entry, from: header.root)
        guard !pieces.isEmpty else {
            // The last member went: the root stays, an empty leaf, for a member the command may add next.
            guard header.count <= 1 else {
                throw StorageError.corruptRecord(reason: "a sorted set's tree holds fewer members than its metadata")
            }
            removed.remove(header.root)
            nodes[header.root] = .leaf([])
            changed.insert(header.root)
            header.height = 1
            return
        }
        // A root with one child gives way to it.
        while case .inner(let children) = try node(header.root), children.count == 1 {
            discard(header.root)
            header.root = children[0].id
            header.height -= 1
        }
    }

    private func insert(_ entry: ScoredMember, into id: UInt64) throws(StorageError) -> [SortedSetNode.Child] {
        switch try node(id) {
        case .leaf(var entries):
            let position = entries.firstIndex { entry < $0 } ?? entries.endIndex
            entries.insert(entry, at: position)
            return store(id, .leaf(entries))
        case .inner(var children):
            let index = Self.childIndex(children, for: entry)
            children.replaceSubrange(index...index, with: try insert(entry, into: children[index].id))
            return store(id, .inner(children))
        }
    }

    private func remove(_ entry: ScoredMember, from id: UInt64) throws(StorageError) -> [SortedSetNode.Child] {
        let updated: SortedSetNode
        switch try node(id) {
        case .leaf(var entries):
            guard let position = entries.firstIndex(of: entry) else {
                throw StorageError.corruptRecord(reason: "a sorted set member is missing from its tree")
            }
            entries.remove(at: position)
            updated = .leaf(entries)
        case .inner(var children):
            let index = Self.childIndex(children, for: entry)
            let pieces = try remove(entry, from: children[index].id)
            children.replaceSubrange(index...index, with: pieces)
            if pieces.count == 1, children.count > 1, try node(pieces[0].id).entryCount < Self.minEntries {
                let left = index + 1 < children.count ? index : index - 1
                children.replaceSubrange(left...left + 1, with: try combine(children[left], children[left + 1]))
            }
            updated = .inner(children)
        }
        guard updated.entryCount > 0 else {
            discard(id)
            return []
        }
        return store(id, updated)
    }

    /// Two neighbouring nodes of one level as one (split again when too large).
    private func combine(_ left: SortedSetNode.Child, _ right: SortedSetNode.Child) throws(StorageError)
        -> [SortedSetNode.Child]
    {
        let merged: SortedSetNode
        switch (try node(left.id), try node(right.id)) {
        case (.leaf(let a), .leaf(let b)): merged = .leaf(a + b)
        case (.inner(let a), .inner(let b)): merged = .inner(a + b)
        default: throw StorageError.corruptRecord(reason: "a sorted set tree mixes levels")
        }
        discard(right.id)
        return store(left.id, merged)
    }

    /// Keeps `node` as node `id`, split into as many nodes as its size needs; the nodes that now hold its
    /// entries, in order.
    private func store(_ id: UInt64, _ node: SortedSetNode) -> [SortedSetNode.Child] {
        let count = node.entryCount
        let tooLarge = count > Self.maxEntries || (count > 1 && node.entryBytes > Self.maxEntryBytes)
        guard tooLarge else {
            nodes[id] = node
            changed.insert(id)
            return [SortedSetNode.Child(id: id, count: node.memberCount, first: node.first!)]
        }
        let half = count / 2
        let (low, high): (SortedSetNode, SortedSetNode)
        switch node {
        case .leaf(let entries): (low, high) = (.leaf(Array(entries[..<half])), .leaf(Array(entries[half...])))
        case .inner(let children): (low, high) = (.inner(Array(children[..<half])), .inner(Array(children[half...])))
        }
        let sibling = allocate()
        return store(id, low) + store(sibling, high)
    }

    private func allocate() -> UInt64 {
        defer { header.nextNode += 1 }
        return header.nextNode
    }

    private func discard(_ id: UInt64) {
        nodes[id] = nil
        changed.remove(id)
        removed.insert(id)
    }
}
