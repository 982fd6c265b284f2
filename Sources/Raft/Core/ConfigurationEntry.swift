/// The payload of an entry of kind ``EntryKind/configurationChange``: the change and the membership it
/// produces.
///
/// Carrying the whole resulting membership lets a member that joins with an empty log learn the complete
/// configuration from the first configuration entry it receives, even though the bootstrap membership lives
/// only in the other members' initial snapshots.
///
/// Layout: operation (1: add voter, 2: add learner, 3: promote, 4: remove), member id (8, big-endian), voter
/// count (2), voter ids (8 each, ascending), learner count (2), learner ids (8 each, ascending).
public struct ConfigurationEntry: Sendable, Hashable {
    /// The change the leader was asked for.
    public var change: ConfigurationChange
    /// The membership after the change: what a member switches to when it appends the entry.
    public var resulting: ConfigurationState

    public init(change: ConfigurationChange, resulting: ConfigurationState) {
        self.change = change
        self.resulting = resulting
    }

    /// The entry payload, in the layout described on the type.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [change.operationCode]
        Self.append(change.member, to: &bytes)
        for group in [resulting.voters, resulting.learners] {
            bytes.append(UInt8(truncatingIfNeeded: group.count >> 8))
            bytes.append(UInt8(truncatingIfNeeded: group.count))
            for member in group.sorted() { Self.append(member, to: &bytes) }
        }
        return bytes
    }

    /// Decodes a payload written by ``encoded``.
    ///
    /// A configuration entry that does not decode means the log is corrupt or was written by another program,
    /// so this traps rather than guess at the membership.
    public init(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes: bytes)
        let operation = reader.byte()
        let member = reader.uint64()
        switch operation {
        case 1: change = .addVoter(member)
        case 2: change = .addLearner(member)
        case 3: change = .promoteLearner(member)
        case 4: change = .removeMember(member)
        default: preconditionFailure("Unknown configuration-change operation \(operation); the log is corrupt.")
        }
        var groups: [Set<NodeID>] = []
        for _ in 0..<2 {
            let count = Int(reader.byte()) << 8 | Int(reader.byte())
            groups.append(Set((0..<count).map { _ in reader.uint64() }))
        }
        precondition(reader.isAtEnd, "A configuration-change entry has trailing bytes; the log is corrupt.")
        resulting = ConfigurationState(voters: groups[0], learners: groups[1])
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Reads big-endian fields, trapping on truncation (a corrupt configuration entry).
    private struct ByteReader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8 {
            precondition(offset < bytes.count, "A configuration-change entry is truncated; the log is corrupt.")
            offset += 1
            return bytes[offset - 1]
        }

        mutating func uint64() -> UInt64 {
            (0..<8).reduce(UInt64(0)) { value, _ in value << 8 | UInt64(byte()) }
        }
    }
}
