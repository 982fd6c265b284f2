import Synchronization

/// What `INFO` shows about a node, refreshed after every ready batch so the Redis handler can read it
/// without waiting for the node actor. Thread-safe.
public final class NodeInfo: Sendable {
    /// One reading.
    public struct Reading: Sendable, Hashable {
        public var role = "follower"
        public var leaderName: String?
        public var term: UInt64 = 0
        public var commitIndex: UInt64 = 0
        public var appliedIndex: UInt64 = 0
        public var halted = false
        /// Whether the node is in touch with a leader (``RaftNode/hasLeaderContact``).
        public var leaderContact = false
        public var encryptionEnabled = false
        public var storageEnvelopeActive = false
        public var raftEnvelopeCutoverIndex: UInt64 = 0
        /// On a leader, the highest log index each other member holds (WAIT counts them).
        public var replicaMatchIndexes: [UInt64] = []
        /// The last index in this member's log (committed or not).
        public var lastLogIndex: UInt64 = 0
        /// The log index and Unix time of the last snapshot (LASTSAVE, INFO persistence); the time is the
        /// process start while it has taken none.
        public var snapshotIndex: UInt64 = 0
        public var lastSnapshotUnixSeconds: Int64 = 0
    }

    private let current = Mutex(Reading())

    public init() {}

    public var reading: Reading { current.withLock { $0 } }

    func publish(_ reading: Reading) {
        current.withLock { $0 = reading }
    }

    /// The `INFO` text: Redis's server and replication sections, plus elastickv's own fields.
    public func render(nodeName: String) -> String {
        let reading = reading
        var lines = ["# Server", "redis_version:7.2.0", "elastickv_node:\(nodeName)", "",
                     "# Replication", "role:\(reading.role == "leader" ? "master" : "slave")",
                     "elastickv_raft_role:\(reading.role)", "elastickv_leader:\(reading.leaderName ?? "")",
                     "elastickv_raft_term:\(reading.term)", "elastickv_raft_commit_index:\(reading.commitIndex)",
                     "elastickv_raft_applied_index:\(reading.appliedIndex)",
                     "elastickv_halted:\(reading.halted ? 1 : 0)"]
        if reading.role != "leader" { lines.append("master_link_status:\(reading.leaderContact ? "up" : "down")") }
        lines += ["", "# Encryption", "elastickv_encryption_enabled:\(reading.encryptionEnabled ? 1 : 0)",
                  "elastickv_storage_envelope_active:\(reading.storageEnvelopeActive ? 1 : 0)",
                  "elastickv_raft_envelope_cutover_index:\(reading.raftEnvelopeCutoverIndex)", ""]
        return lines.joined(separator: "\r\n")
    }
}
