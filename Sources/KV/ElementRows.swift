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

    /// Visits every element row of `generation` in part order, one batch of rows at a time.
    public func forEachElementRow(
        of generation: UInt64, _ body: (_ part: [UInt8], _ body: [UInt8]) throws(StorageError) -> Void
    ) throws(StorageError) {
        var from: [UInt8] = []
        while true {
            let rows = try elementRows(of: generation, from: from, to: nil, limit: Self.elementBatch)
            for row in rows { try body(row.part, row.body) }
            guard rows.count == Self.elementBatch, let last = rows.last else { return }
            from = last.part + [0]
        }
    }

    /// The elements at `indexes` (within `0..<header.count`) of the list `header` describes, in order.
    ///
    /// - Throws: ``StorageError/corruptRecord(reason:)`` when a row the header promises is missing.
    public func listElements(_ header: ListHeader, _ indexes: Range<UInt64>) throws(StorageError) -> [[UInt8]] {
        precondition(indexes.upperBound <= header.count, "list range beyond the list")
        var elements: [[UInt8]] = []
        elements.reserveCapacity(min(indexes.count, Self.elementBatch))
        var next = indexes.lowerBound
        while next < indexes.upperBound {
            let batch = min(indexes.upperBound - next, UInt64(Self.elementBatch))
            let rows = try elementRows(of: header.generation, from: header.part(next), to: header.part(next + batch),
                                       limit: Int(batch))
            guard UInt64(rows.count) == batch else {
                throw StorageError.corruptRecord(reason: "a list is missing element rows its metadata names")
            }
            for row in rows { elements.append(row.body) }
            next += batch
        }
        return elements
    }

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
        let page = try rowPage(header.generation, from: start, limit: limit)
        return (page.rows.map(\.body), page.next)
    }

    /// `count` (≤ the size) members whose names follow `point`, wrapping around to the first name (SPOP,
    /// SRANDMEMBER).
    public func members(of header: SetHeader, startingAt point: [UInt8], count: Int) throws(StorageError) -> [[UInt8]] {
        var chosen = try setPage(header, from: point, limit: count).members
        if chosen.count < count { chosen += try setPage(header, from: [], limit: count - chosen.count).members }
        return chosen
    }

    /// Up to `limit` element rows of `generation` from part `start` (inclusive), in part order, and the part
    /// after the last one when there are more.
    public func rowPage(_ generation: UInt64, from start: [UInt8], limit: Int) throws(StorageError)
        -> (rows: [(part: [UInt8], body: [UInt8])], next: [UInt8]?)
    {
        var rows: [(part: [UInt8], body: [UInt8])] = []
        var from = start
        // One row more than asked tells whether another page follows.
        while rows.count < limit + 1 {
            let wanted = min(Self.elementBatch, limit + 1 - rows.count)
            let batch = try elementRows(of: generation, from: from, to: nil, limit: wanted)
            rows.append(contentsOf: batch)
            guard batch.count == wanted, let last = batch.last else { break }
            from = last.part + [0]
        }
        guard rows.count > limit else { return (rows, nil) }
        let next = rows[limit].part
        return (Array(rows.prefix(limit)), next)
    }
}

/// A hash field's element row body: `field_len u32 ‖ field ‖ value` (docs/formats.md §2a).
public enum HashField {
    static func encode(_ field: [UInt8], _ value: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(4 + field.count + value.count)
        body.appendBlob(field)
        body.append(contentsOf: value)
        return body
    }

    public static func decode(_ body: [UInt8]) throws(StorageError) -> (field: [UInt8], value: [UInt8]) {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            let field = try reader.bytes(count: Int(try reader.uint32()))
            return (field, Array(body[(4 + field.count)...]))
        } catch {
            throw StorageError.corruptRecord(reason: "a hash field row is malformed")
        }
    }
}

extension ElementRows {
    /// The value of `field` in the hash `header` describes; `nil` when absent.
    public func hashValue(_ header: HashHeader, _ field: [UInt8]) throws(StorageError) -> [UInt8]? {
        guard let body = try elementRow(of: header.generation, part: try memberPart(header, field)) else { return nil }
        let stored = try HashField.decode(body)
        guard stored.field == field else { throw StorageError.corruptRecord(reason: "two hash fields share an element name") }
        return stored.value
    }

    /// Every field and value, in element-name order.
    public func hashFields(_ header: HashHeader) throws(StorageError) -> [(field: [UInt8], value: [UInt8])] {
        var fields: [(field: [UInt8], value: [UInt8])] = []
        try forEachElementRow(of: header.generation) { (_, body) throws(StorageError) in
            fields.append(try HashField.decode(body))
        }
        return fields
    }
}
