import DurableIO
import Encryption
import Storage

/// The metadata row of a sorted set (docs/formats.md §2a): where its member rows and the nodes of its
/// ordered tree live.
public struct SortedSetHeader: Hashable, Sendable {
    /// Names the sorted set's element rows (the commit timestamp of the command that created it).
    public var generation: UInt64
    /// The index key the member rows are named with (0: the unkeyed index).
    public var indexKeyID: KeyID
    /// How many members the sorted set holds (never 0: an empty sorted set does not exist).
    public var count: UInt64
    /// The root node of the ordered tree.
    public var root: UInt64
    /// Levels of the tree (1: the root is a leaf).
    public var height: UInt8
    /// The next node id to hand out.
    public var nextNode: UInt64

    public init(generation: UInt64, indexKeyID: KeyID, count: UInt64, root: UInt64, height: UInt8, nextNode: UInt64) {
        self.generation = generation
        self.indexKeyID = indexKeyID
        self.count = count
        self.root = root
        self.height = height
        self.nextNode = nextNode
    }

    static let encodedCount = 1 + 8 + 4 + 8 + 8 + 1 + 8

    func encoded() -> [UInt8] {
        var output: [UInt8] = [0x04]
        output.reserveCapacity(Self.encodedCount)
        output.appendBigEndian(generation)
        output.appendBigEndian(indexKeyID)
        output.appendBigEndian(count)
        output.appendBigEndian(root)
        output.append(height)
        output.appendBigEndian(nextNode)
        return output
    }

    init(decoding reader: inout BinaryReader) throws(BinaryReader.Failure) {
        self.init(generation: try reader.uint64(), indexKeyID: try reader.uint32(), count: try reader.uint64(),
                  root: try reader.uint64(), height: try reader.uint8(), nextNode: try reader.uint64())
        guard count > 0, height >= 1, root != 0, root < nextNode else {
            throw BinaryReader.Failure.invalid("sorted set metadata out of range")
        }
    }
}

/// A member with its score, ordered as Redis orders a sorted set: by score, then by the member's bytes.
public struct ScoredMember: Hashable, Sendable, Comparable {
    public var score: Double
    public var member: [UInt8]

    public init(score: Double, member: [UInt8]) {
        // −0 is kept as 0, as Redis's small sorted sets keep it.
        self.score = score == 0 ? 0 : score
        self.member = member
    }

    public static func < (lhs: ScoredMember, rhs: ScoredMember) -> Bool {
        if lhs.score != rhs.score { return lhs.score < rhs.score }
        return lhs.member.lexicographicallyPrecedes(rhs.member)
    }

    /// Bytes of the entry in a node body.
    var encodedCount: Int { 12 + member.count }

    func encode(into output: inout [UInt8]) {
        output.appendBigEndian(score.bitPattern)
        output.appendBlob(member)
    }

    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> ScoredMember {
        let score = Double(bitPattern: try reader.uint64())
        guard !score.isNaN else { throw BinaryReader.Failure.invalid("a NaN score") }
        return ScoredMember(score: score, member: try reader.bytes(count: Int(try reader.uint32())))
    }
}

/// One node of a sorted set's ordered tree (docs/formats.md §2a): a leaf holds members in order, an internal
/// node its children in order, each with its member count and first member.
enum SortedSetNode: Hashable, Sendable {
    struct Child: Hashable, Sendable {
        var id: UInt64
        var count: UInt64
        var first: ScoredMember
    }

    case leaf([ScoredMember])
    case inner([Child])

    var entryCount: Int {
        switch self {
        case .leaf(let entries): return entries.count
        case .inner(let children): return children.count
        }
    }

    /// Bytes of the entries (what the size limit counts).
    var entryBytes: Int {
        switch self {
        case .leaf(let entries): return entries.reduce(0) { $0 + $1.encodedCount }
        case .inner(let children): return children.reduce(0) { $0 + 16 + $1.first.encodedCount }
        }
    }

    /// Members under the node.
    var memberCount: UInt64 {
        switch self {
        case .leaf(let entries): return UInt64(entries.count)
        case .inner(let children): return children.reduce(0) { $0 + $1.count }
        }
    }

    /// The node's smallest member; `nil` for an empty node.
    var first: ScoredMember? {
        switch self {
        case .leaf(let entries): return entries.first
        case .inner(let children): return children.first?.first
        }
    }

    func encoded() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(3 + entryBytes)
        switch self {
        case .leaf(let entries):
            output.append(0x00)
            output.appendBigEndian(UInt16(entries.count))
            for entry in entries { entry.encode(into: &output) }
        case .inner(let children):
            output.append(0x01)
            output.appendBigEndian(UInt16(children.count))
            for child in children {
                output.appendBigEndian(child.id)
                output.appendBigEndian(child.count)
                child.first.encode(into: &output)
            }
        }
        return output
    }

    init(decoding body: [UInt8]) throws(StorageError) {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            let kind = try reader.uint8()
            let count = Int(try reader.uint8()) << 8 | Int(try reader.uint8())
            guard count > 0 else { throw BinaryReader.Failure.invalid("an empty node") }
            switch kind {
            case 0x00:
                var entries: [ScoredMember] = []
                entries.reserveCapacity(count)
                for _ in 0..<count { entries.append(try ScoredMember.decode(&reader)) }
                self = .leaf(entries)
            case 0x01:
                var children: [Child] = []
                children.reserveCapacity(count)
                for _ in 0..<count {
                    let id = try reader.uint64(), members = try reader.uint64()
                    guard members > 0 else { throw BinaryReader.Failure.invalid("an empty child") }
                    children.append(Child(id: id, count: members, first: try ScoredMember.decode(&reader)))
                }
                self = .inner(children)
            default:
                throw BinaryReader.Failure.invalid("unknown node kind \(kind)")
            }
            try reader.expectEnd()
        } catch {
            throw StorageError.corruptRecord(reason: "a sorted set node is malformed: \(error)")
        }
    }
}

/// The element parts of a sorted set's rows (docs/formats.md §2a).
enum SortedSetParts {
    static let memberTag: UInt8 = 0x00
    static let nodeTag: UInt8 = 0x01

    static func member(_ name: [UInt8]) -> [UInt8] { [memberTag] + name }

    static func node(_ id: UInt64) -> [UInt8] {
        var part: [UInt8] = [nodeTag]
        part.appendBigEndian(id)
        return part
    }

    /// The member row body: `score f64 ‖ member`.
    static func memberBody(_ entry: ScoredMember) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(8 + entry.member.count)
        body.appendBigEndian(entry.score.bitPattern)
        body.append(contentsOf: entry.member)
        return body
    }

    static func decodeMemberBody(_ body: [UInt8]) throws(StorageError) -> ScoredMember {
        guard body.count >= 8 else { throw StorageError.corruptRecord(reason: "a sorted set member row is malformed") }
        let score = Double(bitPattern: UInt64(bigEndianBytes: body[0..<8])!)
        guard !score.isNaN else { throw StorageError.corruptRecord(reason: "a sorted set member row holds NaN") }
        return ScoredMember(score: score, member: Array(body[8...]))
    }
}

/// One end of a score range: `(x` excludes x.
public struct ScoreBound: Hashable, Sendable {
    public var value: Double
    public var exclusive: Bool

    public init(_ value: Double, exclusive: Bool = false) {
        self.value = value
        self.exclusive = exclusive
    }

    /// Whether `score` lies above this lower bound.
    func admitsAbove(_ score: Double) -> Bool { exclusive ? score > value : score >= value }
    /// Whether `score` lies below this upper bound.
    func admitsBelow(_ score: Double) -> Bool { exclusive ? score < value : score <= value }
}

/// One end of a lexicographic range: `-`, `+`, `[x` or `(x`.
public enum LexBound: Hashable, Sendable {
    case minimum, maximum
    case inclusive([UInt8])
    case exclusive([UInt8])

    func admitsAbove(_ member: [UInt8]) -> Bool {
        switch self {
        case .minimum: return true
        case .maximum: return false
        case .inclusive(let bound): return !member.lexicographicallyPrecedes(bound)
        case .exclusive(let bound): return bound.lexicographicallyPrecedes(member)
        }
    }

    func admitsBelow(_ member: [UInt8]) -> Bool {
        switch self {
        case .minimum: return false
        case .maximum: return true
        case .inclusive(let bound): return !bound.lexicographicallyPrecedes(member)
        case .exclusive(let bound): return member.lexicographicallyPrecedes(bound)
        }
    }
}

/// Which members a range command names, before REV and LIMIT.
public enum SortedSetRange: Hashable, Sendable {
    /// By rank, Redis style (negative counts from the end; both ends inclusive).
    case rank(start: Int64, stop: Int64)
    case score(min: ScoreBound, max: ScoreBound)
    case lex(min: LexBound, max: LexBound)
}

/// A whole ZRANGE request: the range, the direction and LIMIT (offset, count; a negative count: no limit).
public struct SortedSetQuery: Hashable, Sendable {
    public var range: SortedSetRange
    public var reverse: Bool
    public var limit: (offset: Int64, count: Int64)?

    public init(_ range: SortedSetRange, reverse: Bool = false, limit: (offset: Int64, count: Int64)? = nil) {
        self.range = range
        self.reverse = reverse
        self.limit = limit
    }

    public static func == (lhs: SortedSetQuery, rhs: SortedSetQuery) -> Bool {
        lhs.range == rhs.range && lhs.reverse == rhs.reverse && lhs.limit?.offset == rhs.limit?.offset
            && lhs.limit?.count == rhs.limit?.count
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(range)
        hasher.combine(reverse)
        hasher.combine(limit?.offset)
        hasher.combine(limit?.count)
    }
}

/// How ZUNION, ZINTER and ZDIFF combine scores.
public enum ScoreAggregate: UInt8, Hashable, Sendable {
    case sum = 1, min, max

    func combine(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .sum:
            // inf + -inf is NaN: Redis answers 0.
            let total = a + b
            return total.isNaN ? 0 : total
        case .min: return Swift.min(a, b)
        case .max: return Swift.max(a, b)
        }
    }
}
