import Storage

/// Reads the element rows of collections (docs/formats.md §2a): the store as last applied (``KVReader``), or
/// a write transaction that sees its own writes (the command executor, a transaction being applied).
public protocol ElementRows {
    /// Visible element rows of `generation` whose parts lie in `[from, to)` (`to == nil`: to the last one), in
    /// part order, at most `limit`.
    func elementRows(of generation: UInt64, from: [UInt8], to: [UInt8]?, limit: Int) throws(StorageError)
        -> [(part: [UInt8], body: [UInt8])]
    /// The body of one visible element row; `nil` when there is none.
    func elementRow(of generation: UInt64, part: [UInt8]) throws(StorageError) -> [UInt8]?
    /// The element indexes the collections' rows are named with.
    var elementIndexes: ElementIndexes { get }
}

extension ElementRows {
    /// Element rows read per store scan.
    static var elementBatch: Int { 10_000 }

    /// The element row part of `member` in the set `header` describes.
    public func memberPart(_ header: SetHeader, _ member: [UInt8]) throws(StorageError) -> [UInt8] {
        try elementIndexes.index(header.indexKeyID).name(member)
    }

    public func setContains(_ header: SetHeader, _ member: [UInt8]) throws(StorageError) -> Bool {
        guard let stored = try elementRow(of: header.generation, part: try memberPart(header, member)) else {
            return false
        }
        // Two members with one 128-bit name: never silently merged.
        guard stored == member else { throw StorageError.corruptRecord(reason: "two set members share an element name") }
        return true
    }

    /// Every member, in element-name order.
    public func setMembers(_ header: SetHeader) throws(StorageError) -> [[UInt8]] {
        try setPage(header, from: [], limit: Int(clamping: header.count)).members
    }

    /// Up to `limit` members whose names follow `start` (inclusive), in name order, and the part after the
    /// last one returned when more may follow.
    public func setPage(_ header: SetHeader, from start: [UInt8], limit: Int) throws(StorageError)
        -> (members: [[UInt8]], next: [UInt8]?)
    {
        var members: [[UInt8]] = []
        var from = start
        while members.count < limit {
            let wanted = min(Self.elementBatch, limit - members.count)
            let batch = try elementRows(of: header.generation, from: from, to: nil, limit: wanted)
            members.append(contentsOf: batch.map(\.body))
            guard batch.count == wanted, let last = batch.last else { return (members, nil) }
            from = last.part + [0]
        }
        return (members, from)
    }
}
