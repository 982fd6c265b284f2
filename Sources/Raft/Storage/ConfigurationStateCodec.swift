/// The one binary encoding of ``ConfigurationState`` used by the Raft storage (snapshot headers).
///
/// Layout (format version 1): voter count (u32), voter ids (u64 each, strictly ascending), learner count
/// (u32), learner ids (u64 each, strictly ascending). Ids are never 0 and no id is both voter and learner.
/// When ``ConfigurationState`` gains a field (for example outgoing voters for joint consensus), the
/// enclosing formats bump their version and this codec decodes each version it knows; keeping the encoding
/// here means that change touches one file.
enum ConfigurationStateCodec {
    /// The configuration layout version written by this build.
    static let currentVersion: UInt16 = 1

    /// The most members a configuration may list; larger counts are treated as corruption.
    static let maxMemberCount = 4096

    static func encode(_ configuration: ConfigurationState, into writer: inout ByteWriter) {
        precondition(configuration.voters.isDisjoint(with: configuration.learners), "a member is voter and learner")
        for members in [configuration.voters, configuration.learners] {
            precondition(members.count <= maxMemberCount, "configuration has more than \(maxMemberCount) members")
            precondition(!members.contains(0), "configuration lists member id 0")
            writer.append(UInt32(members.count))
            for member in members.sorted() { writer.append(member) }
        }
    }

    static func decode(
        from reader: inout ByteReader,
        version: UInt16
    ) throws(StorageFormatError) -> ConfigurationState {
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        let voters = try decodeMembers(from: &reader, role: "voter")
        let learners = try decodeMembers(from: &reader, role: "learner")
        guard voters.isDisjoint(with: learners) else { throw .invalidField("a member is both voter and learner") }
        return ConfigurationState(voters: voters, learners: learners)
    }

    private static func decodeMembers(
        from reader: inout ByteReader,
        role: String
    ) throws(StorageFormatError) -> Set<NodeID> {
        let count = Int(try reader.readUInt32())
        guard count <= maxMemberCount else { throw .invalidField("\(role) count \(count) > \(maxMemberCount)") }
        try reader.require(count * 8)
        var members = Set<NodeID>()
        var previous: NodeID = 0
        for _ in 0..<count {
            let member = try reader.readUInt64()
            guard member > previous else { throw .invalidField("\(role) ids not strictly ascending or 0") }
            members.insert(member)
            previous = member
        }
        return members
    }
}
