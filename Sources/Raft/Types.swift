/// The identity of a Raft member: the node's `full_node_id` (FNV-1a-64 of its `--node-id`, never 0).
public typealias NodeID = UInt64

/// What a log entry carries.
public enum EntryKind: UInt8, Sendable, Hashable {
    /// An application command (possibly empty: a new leader's no-op).
    case normal = 0
    /// A membership change, decoded by the core itself.
    case configurationChange = 1
}

/// One record of the replicated log.
public struct Entry: Sendable, Hashable {
    public var term: UInt64
    public var index: UInt64
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }
}

/// The state a member must persist before it answers any message.
public struct HardState: Sendable, Hashable {
    public var term: UInt64
    /// The candidate voted for in `term`; 0 when none.
    public var vote: NodeID
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: NodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// The membership of the cluster at some log position.
public struct ConfigurationState: Sendable, Hashable {
    /// Members that vote and count for quorum.
    public var voters: Set<NodeID>
    /// Members that receive the log but never vote.
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners
    }
}

/// Describes the log prefix a snapshot replaces.
public struct SnapshotMetadata: Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var configuration: ConfigurationState

    public init(index: UInt64 = 0, term: UInt64 = 0, configuration: ConfigurationState = ConfigurationState()) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// A state-machine image at `metadata.index`, as opaque bytes.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }
}
