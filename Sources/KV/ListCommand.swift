import DurableIO

/// A list's metadata row: which element rows hold it and where it starts.
///
/// Element `i` (0 = head) is the element row of `generation` whose part is the big-endian `head + i`. The
/// first list of a generation starts at 2^63, so pushes at either end have 2^63 positions to go.
public struct ListHeader: Hashable, Sendable {
    /// Names the list's element rows (the commit timestamp of the command that created the list).
    public var generation: UInt64
    /// The position of the first element.
    public var head: UInt64
    /// How many elements the list holds (never 0: an empty list does not exist).
    public var count: UInt64

    public init(generation: UInt64, head: UInt64, count: UInt64) {
        self.generation = generation
        self.head = head
        self.count = count
    }

    /// Where the first element of a new list goes.
    public static let firstPosition: UInt64 = 1 << 63

    /// The element part of the element at `index`.
    public func part(_ index: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        bytes.appendBigEndian(head &+ index)
        return bytes
    }

    /// The positions LRANGE and LTRIM cover for Redis's `start` and `stop` (negative: from the tail), clamped
    /// to the list; empty when they cross or start past the end.
    public static func indexRange(_ start: Int64, _ stop: Int64, count: UInt64) -> Range<UInt64> {
        let length = Int64(count)
        let first = max(start < 0 ? length + start : start, 0)
        let last = min(stop < 0 ? length + stop : stop, length - 1)
        guard first <= last, first < length else { return 0..<0 }
        return UInt64(first)..<UInt64(last) + 1
    }

    /// The position of Redis index `index` (negative: from the tail) in a list of `count`; `nil` outside it.
    public static func position(_ index: Int64, count: UInt64) -> UInt64? {
        let resolved = index < 0 ? Int64(count) + index : index
        guard resolved >= 0, UInt64(resolved) < count else { return nil }
        return UInt64(resolved)
    }
}

/// The list commands that change state (LPUSH … LMPOP). Indexes are Redis's: negative ones count from the
/// tail.
public enum ListCommand: Hashable, Sendable {
    /// LPUSH / RPUSH (`onlyIfExists == false`) and LPUSHX / RPUSHX: answers the new length.
    case push(key: [UInt8], elements: [[UInt8]], left: Bool, onlyIfExists: Bool)
    /// LPOP / RPOP: one element (bulk or null) without `count`, else an array of up to `count` (null array
    /// when the key is missing).
    case pop(key: [UInt8], left: Bool, count: Int64?)
    /// LSET.
    case set(key: [UInt8], index: Int64, element: [UInt8])
    /// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the pivot, 0 without the key.
    case insert(key: [UInt8], before: Bool, pivot: [UInt8], element: [UInt8])
    /// LREM key count element.
    case remove(key: [UInt8], count: Int64, element: [UInt8])
    /// LTRIM key start stop.
    case trim(key: [UInt8], start: Int64, stop: Int64)
    /// LMOVE / RPOPLPUSH: the moved element, or null when the source is missing.
    case move(source: [UInt8], destination: [UInt8], fromLeft: Bool, toLeft: Bool)
    /// LMPOP: `[key, [elements]]` from the first non-empty list, or a null array.
    case multiPop(keys: [[UInt8]], left: Bool, count: Int64)

    /// Every key the command may write.
    public var keys: [[UInt8]] {
        switch self {
        case .push(let key, _, _, _), .pop(let key, _, _), .set(let key, _, _), .insert(let key, _, _, _),
             .remove(let key, _, _), .trim(let key, _, _):
            return [key]
        case .move(let source, let destination, _, _): return [source, destination]
        case .multiPop(let keys, _, _): return keys
        }
    }

    /// The largest element the command carries (checked against the value limit).
    public var largestElement: Int? {
        switch self {
        case .push(_, let elements, _, _): return elements.map(\.count).max()
        case .set(_, _, let element), .insert(_, _, _, let element): return element.count
        default: return nil
        }
    }
}
