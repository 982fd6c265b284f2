import DurableIO

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
        bytes.appendBigEndian(change.member)
        for group in [resulting.voters, resulting.learners] {
            bytes.appendBigEndian(UInt16(group.count))
            for member in group.sorted() { bytes.appendBigEndian(member) }
        }
        return bytes
    }

    /// Decodes a payload written by ``encoded``.
    ///
    /// A configuration entry that does not decode means the log is corrupt or was written by another program,
    /// so this traps rather than guess at the membership.
    public init(decoding bytes: [UInt8]) {
        var reader = BigEndianReader(bytes)
        func read<Value: FixedWidthInteger & UnsignedInteger>(_: Value.Type) -> Value {
            guard let value = try? reader.read(Value.self) else {
                preconditionFailure("A configuration-change entry is truncated; the log is corrupt.")
            }
            return value
        }
        let operation = read(UInt8.self)
        let member = read(UInt64.self)
        switch operation {
        case 1: change = .addVoter(member)
        case 2: change = .addLearner(member)
        case 3: change = .promoteLearner(member)
        case 4: change = .removeMember(member)
        default: preconditionFailure("Unknown configuration-change operation \(operation); the log is corrupt.")
        }
        var groups: [Set<NodeID>] = []
        for _ in 0..<2 {
            let count = Int(read(UInt16.self))
            groups.append(Set((0..<count).map { _ in read(UInt64.self) }))
        }
        precondition(reader.remaining == 0, "A configuration-change entry has trailing bytes; the log is corrupt.")
        resulting = ConfigurationState(voters: groups[0], learners: groups[1])
    }
}
