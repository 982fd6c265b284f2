/// Membership and status operations of a node, as the `Cluster` admin service and the CLI need them.
///
/// Implemented by the running node; the gRPC service is a thin adapter over it.
public protocol ClusterControl: Sendable {
    /// The node's view of the cluster.
    func status() async -> ClusterStatus
    /// Adds a learner (it receives the log, never votes); returns the index of the configuration entry.
    func addLearner(name: String, address: String) async throws(ClusterControlError) -> UInt64
    /// Turns a learner into a voter.
    func promote(name: String) async throws(ClusterControlError) -> UInt64
    /// Removes a voter or a learner.
    func remove(name: String) async throws(ClusterControlError) -> UInt64
    /// Hands leadership to a voter and waits until it leads (bounded by an election timeout).
    func transferLeader(to name: String) async throws(ClusterControlError)
    /// Node-local: snapshots this node's store at its applied index and compacts its whole log behind it;
    /// returns the snapshot's index.
    func snapshotAndCompact() async throws(ClusterControlError) -> UInt64
}

/// A snapshot of the cluster as one node sees it.
public struct ClusterStatus: Sendable, Hashable {
    /// One member of the configuration.
    public struct Member: Sendable, Hashable {
        public enum Role: String, Sendable, Hashable {
            case leader, follower, learner
        }

        public var name: String
        public var raftID: UInt64
        public var address: String
        public var role: Role

        public init(name: String, raftID: UInt64, address: String, role: Role) {
            self.name = name
            self.raftID = raftID
            self.address = address
            self.role = role
        }
    }

    public var nodeName: String
    /// The leader's node name, `nil` when unknown.
    public var leaderName: String?
    public var leaderAddress: String?
    public var term: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var members: [Member]

    public init(nodeName: String, leaderName: String?, leaderAddress: String?, term: UInt64, commitIndex: UInt64,
                appliedIndex: UInt64, members: [Member]) {
        self.nodeName = nodeName
        self.leaderName = leaderName
        self.leaderAddress = leaderAddress
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.members = members
    }
}

/// Why a membership operation was refused; the description is what the CLI prints.
public enum ClusterControlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Only the leader changes membership; carries the leader's gRPC address when known.
    case notLeader(leaderAddress: String?)
    /// No member has this name.
    case unknownMember(String)
    /// The name is already a member.
    case alreadyMember(String)
    /// Another membership change has not committed yet.
    case changeInProgress
    /// The operation did not complete in time; it may still take effect.
    case timeout
    /// Any other refusal, with the reason.
    case rejected(String)

    public var description: String {
        switch self {
        case .notLeader(let address):
            return "FAILED_PRECONDITION: this node is not the leader"
                + (address.map { "; the leader is at \($0)" } ?? "; no leader is known yet")
        case .unknownMember(let name): return "no member named '\(name)'"
        case .alreadyMember(let name): return "'\(name)' is already a member"
        case .changeInProgress: return "another membership change is still in progress; retry when it commits"
        case .timeout: return "timed out; the change may still take effect — check `cluster status`"
        case .rejected(let reason): return reason
        }
    }
}
