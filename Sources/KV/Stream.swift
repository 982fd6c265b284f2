import DurableIO
import Encryption
import RESP
import Storage

/// A stream entry id: milliseconds and a sequence number, ordered as Redis orders them.
public struct StreamID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var ms: UInt64
    public var seq: UInt64

    public init(_ ms: UInt64, _ seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = StreamID(0, 0)
    public static let max = StreamID(.max, .max)

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.ms, lhs.seq) < (rhs.ms, rhs.seq)
    }

    public var description: String { "\(ms)-\(seq)" }

    /// Reads back ``description``.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(ms, seq)
    }

    /// The id just after this one; `nil` after the largest.
    public var next: StreamID? {
        if seq < .max { return StreamID(ms, seq + 1) }
        return ms < .max ? StreamID(ms + 1, 0) : nil
    }

    /// The id just before this one; `nil` before 0-0.
    public var previous: StreamID? {
        if seq > 0 { return StreamID(ms, seq - 1) }
        return ms > 0 ? StreamID(ms - 1, .max) : nil
    }

    /// The element part of the entry with this id.
    var part: [UInt8] {
        var part: [UInt8] = [0x00]
        part.reserveCapacity(17)
        part.appendBigEndian(ms)
        part.appendBigEndian(seq)
        return part
    }

    init?(part: [UInt8]) {
        guard part.count == 17, part[0] == 0x00 else { return nil }
        self.init(UInt64(bigEndianBytes: part[1..<9])!, UInt64(bigEndianBytes: part[9..<17])!)
    }

    func encode(into output: inout [UInt8]) {
        output.appendBigEndian(ms)
        output.appendBigEndian(seq)
    }

    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> StreamID {
        StreamID(try reader.uint64(), try reader.uint64())
    }
}

/// A stream's metadata row (docs/formats.md §2a).
public struct StreamHeader: Hashable, Sendable {
    public var generation: UInt64
    /// Entries in the stream (0 is a stream too: XDEL and XTRIM leave the key).
    public var count: UInt64
    /// The last id handed out; `*` goes after it.
    public var lastID: StreamID
    public var maxDeletedID: StreamID
    public var entriesAdded: UInt64
    /// The index key consumer groups are named with (0: the unkeyed index).
    public var indexKeyID: KeyID

    public init(generation: UInt64, count: UInt64 = 0, lastID: StreamID = .zero, maxDeletedID: StreamID = .zero,
                entriesAdded: UInt64 = 0, indexKeyID: KeyID = 0) {
        self.generation = generation
        self.count = count
        self.lastID = lastID
        self.maxDeletedID = maxDeletedID
        self.entriesAdded = entriesAdded
        self.indexKeyID = indexKeyID
    }

    func encoded() -> [UInt8] {
        var output: [UInt8] = [0x05]
        output.reserveCapacity(61)
        output.appendBigEndian(generation)
        output.appendBigEndian(count)
        lastID.encode(into: &output)
        maxDeletedID.encode(into: &output)
        output.appendBigEndian(entriesAdded)
        output.appendBigEndian(indexKeyID)
        return output
    }

    init(decoding reader: inout BinaryReader) throws(BinaryReader.Failure) {
        self.init(generation: try reader.uint64(), count: try reader.uint64(), lastID: try StreamID.decode(&reader),
                  maxDeletedID: try StreamID.decode(&reader), entriesAdded: try reader.uint64(),
                  indexKeyID: try reader.uint32())
        guard count <= entriesAdded else { throw BinaryReader.Failure.invalid("stream metadata out of range") }
    }
}

/// One stream entry: its id and its field/value pairs.
public struct StreamEntry: Hashable, Sendable {
    public var id: StreamID
    public var fields: [[UInt8]]

    public init(id: StreamID, fields: [[UInt8]]) {
        self.id = id
        self.fields = fields
    }

    /// The entry as XRANGE, XREAD and XREADGROUP answer it: `[id, [field, value, …]]`.
    public var reply: RESPValue {
        .array([.bulk(id.description), .array(fields.map(RESPValue.bulkString))])
    }

    static func encodeBody(_ fields: [[UInt8]]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(4 + fields.reduce(0) { $0 + 4 + $1.count })
        body.appendBigEndian(UInt32(fields.count / 2))
        for item in fields { body.appendBlob(item) }
        return body
    }

    static func decodeBody(_ body: [UInt8], id: StreamID) throws(StorageError) -> StreamEntry {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            let pairs = Int(try reader.uint32())
            guard pairs > 0, pairs <= body.count / 8 else { throw BinaryReader.Failure.invalid("pair count") }
            var fields: [[UInt8]] = []
            fields.reserveCapacity(pairs * 2)
            for _ in 0..<(pairs * 2) { fields.append(try reader.bytes(count: Int(try reader.uint32()))) }
            try reader.expectEnd()
            return StreamEntry(id: id, fields: fields)
        } catch {
            throw StorageError.corruptRecord(reason: "a stream entry row is malformed: \(error)")
        }
    }
}

/// XADD's id: `*`, `ms-*`, or explicit.
public enum StreamIDRequest: Hashable, Sendable {
    case auto
    case autoSequence(UInt64)
    case explicit(StreamID)
}

/// XADD's and XTRIM's trimming: MAXLEN or MINID, `~` (approximate: trimmed exactly here) and LIMIT.
public struct StreamTrim: Hashable, Sendable {
    public enum Threshold: Hashable, Sendable {
        case maxLength(UInt64)
        case minID(StreamID)
    }

    public var threshold: Threshold
    public var approximate: Bool
    /// The most entries one trim removes (LIMIT; only with `~`); nil: no limit.
    public var limit: UInt64?

    public init(_ threshold: Threshold, approximate: Bool = false, limit: UInt64? = nil) {
        self.threshold = threshold
        self.approximate = approximate
        self.limit = limit
    }
}

/// The stream commands that change state.
public enum StreamCommand: Hashable, Sendable {
    /// XADD: answers the new entry's id (null with NOMKSTREAM on a missing key).
    case add(key: [UInt8], id: StreamIDRequest, fields: [[UInt8]], makeStream: Bool, trim: StreamTrim?)
    /// XDEL: answers how many entries went.
    case delete(key: [UInt8], ids: [StreamID])
    /// XTRIM: answers how many entries went.
    case trim(key: [UInt8], StreamTrim)
    /// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
    case setID(key: [UInt8], id: StreamID, entriesAdded: UInt64?, maxDeletedID: StreamID?)

    public var keys: [[UInt8]] {
        switch self {
        case .add(let key, _, _, _, _), .delete(let key, _), .trim(let key, _), .setID(let key, _, _, _): return [key]
        }
    }

    public var largestElement: Int? {
        guard case .add(_, _, let fields, _, _) = self else { return nil }
        return fields.map(\.count).max()
    }
}

extension ElementRows {
    /// Entries with ids in `range` (inclusive), in id order (or reversed), at most `count` (nil: all).
    public func streamEntries(_ header: StreamHeader, from low: StreamID, to high: StreamID, reverse: Bool = false,
                              count: Int? = nil) throws(StorageError) -> [StreamEntry] {
        guard low <= high, header.count > 0 else { return [] }
        let end = high.next?.part ?? [0x01]
        var entries: [StreamEntry] = []
        if !reverse {
            var from = low.part
            while count.map({ entries.count < $0 }) ?? true {
                let wanted = Swift.min(Self.elementBatch, (count ?? Int.max) - entries.count)
                let rows = try elementRows(of: header.generation, from: from, to: end, limit: wanted)
                for row in rows {
                    guard let id = StreamID(part: row.part) else { continue }
                    entries.append(try StreamEntry.decodeBody(row.body, id: id))
                }
                guard rows.count == wanted, let last = rows.last else { break }
                from = last.part + [0]
            }
            return entries
        }
        // Backwards: element rows scan forwards only, so the range is read forwards and its end taken
        // (XREVRANGE with COUNT reads the whole range: O(range), noted in docs/redis-compatibility.md).
        let all = try streamEntries(header, from: low, to: high)
        return Array(all.reversed().prefix(count ?? Int.max))
    }
}

extension StreamHeader {
    /// Whether an entry at or after `id` was deleted (Redis's "tombstones ahead"): a group's read counter
    /// cannot simply count on past such a point.
    public func hasDeletions(from id: StreamID) -> Bool {
        count > 0 && maxDeletedID != .zero && id <= maxDeletedID
    }

    /// How many entries were added up to and including `id`, when the stream's counters tell (Redis 7's
    /// estimate of a group's read counter); nil when they do not. `firstID` is the first entry's id.
    public func entriesAdded(upTo id: StreamID, firstID: StreamID?) -> UInt64? {
        if entriesAdded == 0 { return 0 }
        if count == 0, id <= lastID { return entriesAdded }
        if id == lastID { return entriesAdded }
        if id > lastID { return nil }
        guard let firstID else { return nil }
        if maxDeletedID == .zero || maxDeletedID < firstID {
            if id < firstID { return entriesAdded - count }
            if id == firstID { return entriesAdded - count + 1 }
        }
        return nil
    }
}
