import Storage

/// Reads a range of a list's element rows through any scanner of row keys (the store as last committed, or
/// a write transaction that sees its own writes).
enum ListElements {
    /// Element rows read per store scan.
    static let batchRows: UInt64 = 10_000

    typealias Scan = (_ from: [UInt8], _ to: [UInt8], _ limit: Int) throws(StorageError) -> [StoredVersion]

    /// The elements at `indexes` (within `0..<header.count`), in order.
    ///
    /// - Throws: ``StorageError/corruptRecord(reason:)`` when a row the header promises is missing.
    static func read(_ header: ListHeader, _ indexes: Range<UInt64>, scan: Scan) throws(StorageError) -> [[UInt8]] {
        precondition(indexes.upperBound <= header.count, "list range beyond the list")
        var elements: [[UInt8]] = []
        elements.reserveCapacity(Int(min(UInt64(indexes.count), batchRows)))
        var next = indexes.lowerBound
        while next < indexes.upperBound {
            let batch = min(indexes.upperBound - next, batchRows)
            let rows = try scan(RedisKeyspace.element(header.generation, header.part(next)),
                                RedisKeyspace.element(header.generation, header.part(next + batch)), Int(batch))
            guard UInt64(rows.count) == batch else {
                throw StorageError.corruptRecord(reason: "a list is missing element rows its metadata names")
            }
            for row in rows { elements.append(row.body) }
            next += batch
        }
        return elements
    }

    /// Every row key of `generation`'s element rows that is still visible, in order.
    static func rowKeys(of generation: UInt64, scan: Scan) throws(StorageError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var start = RedisKeyspace.element(generation, [])
        let end = RedisKeyspace.generationEnd(generation)
        while true {
            let rows = try scan(start, end, Int(batchRows))
            keys.append(contentsOf: rows.map(\.key))
            guard UInt64(rows.count) == batchRows, let last = rows.last else { return keys }
            start = last.key + [0]
        }
    }
}
