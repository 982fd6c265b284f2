import KV
import RESP
import Storage

extension ReadEvaluator {
    /// Elements LPOS compares per store read.
    static var positionBatch: UInt64 { 1_000 }

    func evaluateList(_ command: ReadCommand, _ now: UInt64) throws(StorageError) -> RESPValue {
        switch command {
        case .listLength(let key):
            return try list(key, now) { .integer(Int64($0.count)) } ?? .integer(0)
        case .listRange(let key, let start, let stop):
            return try list(key, now) { (header) throws(StorageError) in
                let indexes = ListHeader.indexRange(start, stop, count: header.count)
                return .array(try reader.listElements(header, indexes).map(RESPValue.bulkString))
            } ?? .array([])
        case .listIndex(let key, let index):
            return try list(key, now) { (header) throws(StorageError) in
                guard let position = ListHeader.position(index, count: header.count) else { return .null }
                return .bulkString(try reader.listElements(header, position..<position + 1)[0])
            } ?? .null
        case .listPosition(let key, let element, let rank, let count, let maxLength):
            return try list(key, now) { (header) throws(StorageError) in
                let found = try positions(of: element, in: header, rank: rank, count: count ?? 1, maxLength: maxLength)
                guard count != nil else { return found.first.map(RESPValue.integer) ?? .null }
                return .array(found.map(RESPValue.integer))
            } ?? (count == nil ? .null : .array([]))
        default:
            preconditionFailure("only list read commands reach evaluateList")
        }
    }

    /// Applies `body` to the list at `key`; `nil` when missing; WRONGTYPE for another type.
    private func list(_ key: [UInt8], _ now: UInt64, _ body: (ListHeader) throws(StorageError) -> RESPValue)
        throws(StorageError) -> RESPValue?
    {
        guard let entry = try reader.lookup(key, nowMillis: now) else { return nil }
        guard case .list(let header) = entry.value else { return .error(CommandError.wrongType.redisMessage) }
        return try body(header)
    }

    /// LPOS: the indexes (from the head) of matches, skipping `|rank| - 1` of them, walking from the head
    /// (`rank > 0`) or the tail, comparing at most `maxLength` elements (0: all), keeping `count` (0: all).
    private func positions(of element: [UInt8], in header: ListHeader, rank: Int64, count: Int64, maxLength: Int64)
        throws(StorageError) -> [Int64]
    {
        let fromTail = rank < 0
        var skip = rank.magnitude - 1
        let limit = maxLength == 0 ? header.count : min(UInt64(maxLength), header.count)
        var found: [Int64] = []
        var compared: UInt64 = 0
        while compared < limit {
            let batch = min(Self.positionBatch, limit - compared)
            let indexes = fromTail ? header.count - compared - batch..<header.count - compared
                                   : compared..<compared + batch
            var elements = try reader.listElements(header, indexes)
            if fromTail { elements.reverse() }
            for (offset, candidate) in elements.enumerated() where candidate == element {
                if skip > 0 { skip -= 1; continue }
                let index = fromTail ? header.count - compared - 1 - UInt64(offset) : compared + UInt64(offset)
                found.append(Int64(index))
                if count != 0, found.count == count { return found }
            }
            compared += batch
        }
        return found
    }
}
