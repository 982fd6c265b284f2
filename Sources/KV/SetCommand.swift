import DurableIO
import Encryption

/// The metadata row of a set or a hash: which element rows hold its members (fields) and which element index
/// names them.
///
/// Each member is the element row of `generation` whose part is the member's name under the index
/// `indexKeyID` (``ElementIndex``); the row's body is the member's bytes (a hash field's row holds the field
/// and its value, ``HashField``).
public struct SetHeader: Hashable, Sendable {
    /// Names the set's element rows (the commit timestamp of the command that created the set).
    public var generation: UInt64
    /// The index key the members are named with (0: the unkeyed index).
    public var indexKeyID: KeyID
    /// How many members the set holds (never 0: an empty set does not exist).
    public var count: UInt64

    public init(generation: UInt64, indexKeyID: KeyID, count: UInt64) {
        self.generation = generation
        self.indexKeyID = indexKeyID
        self.count = count
    }
}

/// A hash's metadata: the same layout as a set's (type byte 0x01 instead of 0x03).
public typealias HashHeader = SetHeader

/// How SINTER, SUNION and SDIFF (and their STORE forms) combine sets.
public enum SetOperation: UInt8, Hashable, Sendable {
    case union = 1, intersection, difference
}

/// The set commands that change state.
public enum SetCommand: Hashable, Sendable {
    /// SADD: answers how many members were new.
    case add(key: [UInt8], members: [[UInt8]])
    /// SREM: answers how many members were removed.
    case remove(key: [UInt8], members: [[UInt8]])
    /// SPOP: one member (bulk or null) without `count`, else up to `count` members as a set. Which members
    /// go is chosen from the commit timestamp, so every replica removes the same ones.
    case pop(key: [UInt8], count: Int64?)
    /// SMOVE source destination member: 1 when moved.
    case move(source: [UInt8], destination: [UInt8], member: [UInt8])
    /// SUNIONSTORE, SINTERSTORE, SDIFFSTORE: replaces `destination` with the result; answers its size.
    case store(SetOperation, destination: [UInt8], keys: [[UInt8]])

    /// Every key the command may write.
    public var keys: [[UInt8]] {
        switch self {
        case .add(let key, _), .remove(let key, _), .pop(let key, _): return [key]
        case .move(let source, let destination, _): return [source, destination]
        case .store(_, let destination, let keys): return [destination] + keys
        }
    }

    /// The largest member the command carries (checked against the value limit).
    public var largestElement: Int? {
        switch self {
        case .add(_, let members): return members.map(\.count).max()
        case .move(_, _, let member): return member.count
        default: return nil
        }
    }
}
