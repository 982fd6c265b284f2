import Encryption

/// The encryption life-cycle operations of a node, as the `EncryptionAdmin` service and the CLI need them.
///
/// Implemented by the running node; the gRPC service is a thin adapter over it. Read-only calls answer on any
/// role. Mutators run only on the leader of a node started with `--encryption-enabled` and a loaded KEK, and
/// return once their entry is applied on the leader.
public protocol EncryptionControl: Sendable {
    /// What this node can do, fresh (DESIGN §4 "Capability").
    func capability() async -> EncryptionCapability
    /// The replicated encryption state this node has applied, with the registry rows of `node16` (the caller's
    /// projection; all rows when `nil`).
    func encryptionState(node16: UInt16?) async throws(EncryptionControlError) -> EncryptionStatus
    /// Draws the first storage and raft DEKs and registers every member (0x04).
    func bootstrap() async throws(EncryptionControlError) -> EncryptionChange
    /// Bootstraps when no DEK is active, then turns the storage envelope on (0x05/0x04).
    func enableStorageEnvelope() async throws(EncryptionControlError) -> EncryptionChange
    /// Phase 2: quiesces user proposals, commits the cut-over entry (0x05/0x05) and switches wrap-on-propose on.
    func enableRaftEnvelope() async throws(EncryptionControlError) -> EncryptionChange
    /// Makes a new DEK active for `purpose` (0x05/0x01).
    func rotateDEK(purpose: KeyPurpose) async throws(EncryptionControlError) -> EncryptionChange
    /// Re-wraps every unretired DEK under this node's current KEK (0x05/0x02).
    func rewrapDEKs() async throws(EncryptionControlError) -> EncryptionChange
    /// Retires an inactive DEK that nothing can still need (0x05/0x03); refuses with the unmet criterion.
    func retireDEK(keyID: KeyID) async throws(EncryptionControlError) -> EncryptionChange
    /// Commits writer registrations (0x03), for example for a member whose registration is missing.
    func registerWriters(_ registrations: [WriterRegistration]) async throws(EncryptionControlError)
        -> EncryptionChange
    /// Rewrites this node's sidecar from the replicated encryption state it has applied, keeping local epochs.
    func resyncSidecar() async throws(EncryptionControlError) -> EncryptionChange
    /// Starts re-sealing every stored version under the active storage DEK (0x05/0x08 chunks), at
    /// `rowsPerSecond` (the default when `nil`); a run already going against that DEK is left as it is.
    func startRewrite(rowsPerSecond: UInt32?) async throws(EncryptionControlError) -> EncryptionChange
    /// What on this node still needs each unretired DEK; answers on any role.
    func keyUsage() async throws(EncryptionControlError) -> KeyUsageReport
    /// The rewrite as this node applied it, with its own row counts; answers on any role.
    func rewriteStatus() async throws(EncryptionControlError) -> RewriteStatus
    /// Replaces the automatic rotation policy (0x05/0x07); a bound left `nil` keeps its current value.
    func setRotationPolicy(rotateAfterSeconds: UInt64?, rotateAfterSeals: UInt64?, rewriteAfterRotate: Bool?) async
        throws(EncryptionControlError) -> EncryptionChange
}

/// One node's answer to a capability poll.
public struct EncryptionCapability: Sendable, Hashable {
    /// The node's `--node-id`.
    public var nodeName: String
    /// FNV-1a-64 of the node id (DESIGN §3.1).
    public var fullNodeID: UInt64
    /// Started with `--encryption-enabled` and a loaded KEK: it can apply every encryption entry.
    public var encryptionCapable: Bool
    /// The build that answers (version and encryption format versions).
    public var buildID: String
    /// Whether `<data-dir>/encryption/keys.json` exists.
    public var sidecarPresent: Bool
    /// The highest local epoch this process seals with (0 when it holds no key); never above 0xFFFF.
    public var localEpoch: UInt16
    /// ``KEKCheck`` of the KEK in the node's KEK source; empty without a KEK. Members must agree on it.
    public var kekCheck: String
    /// The raft DEKs that seal entries still in the node's log, ascending; a raft DEK is retired only when no
    /// member lists it.
    public var raftLogKeyIDs: [KeyID]

    public init(nodeName: String, fullNodeID: UInt64, encryptionCapable: Bool, buildID: String,
                sidecarPresent: Bool, localEpoch: UInt16, kekCheck: String = "", raftLogKeyIDs: [KeyID] = []) {
        self.nodeName = nodeName
        self.fullNodeID = fullNodeID
        self.encryptionCapable = encryptionCapable
        self.buildID = buildID
        self.sidecarPresent = sidecarPresent
        self.localEpoch = localEpoch
        self.kekCheck = kekCheck
        self.raftLogKeyIDs = raftLogKeyIDs
    }
}

/// The replicated encryption state as one node applied it, plus that node's local epochs.
public struct EncryptionStatus: Sendable, Hashable {
    /// One DEK.
    public struct Key: Sendable, Hashable {
        public var keyID: KeyID
        public var purpose: KeyPurpose
        /// The key as the KEK wrapped it (safe to show: it is useless without the KEK).
        public var wrapped: [UInt8]
        /// `YYYY-MM-DDTHH:MM:SSZ`.
        public var created: String
        /// The answering node's local epoch for the key.
        public var localEpoch: UInt16
        /// The kek ids holding a wrap of the key, primary first; empty when one unnamed KEK wrapped it.
        public var wrappedBy: [String]
        /// Values the answering replica sealed under the key: its own stored rows for a storage key, the
        /// committed entries (each sealed once, by its leader) for a raft key.
        public var sealCount: UInt64

        public init(keyID: KeyID, purpose: KeyPurpose, wrapped: [UInt8], created: String, localEpoch: UInt16,
                    wrappedBy: [String] = [], sealCount: UInt64 = 0) {
            self.keyID = keyID
            self.purpose = purpose
            self.wrapped = wrapped
            self.created = created
            self.localEpoch = localEpoch
            self.wrappedBy = wrappedBy
            self.sealCount = sealCount
        }

        /// Seals under the key across the cluster: every member seals its own copy of each stored value,
        /// while a raft entry is sealed once.
        public func clusterSealCount(memberCount: Int) -> UInt64 {
            purpose == .storage ? sealCount.multipliedReportingOverflow(by: UInt64(max(memberCount, 1))).partialValue
                : sealCount
        }
    }

    /// One writer-registry row.
    public struct RegistryRow: Sendable, Hashable {
        public var keyID: KeyID
        public var node16: UInt16
        public var row: WriterRegistryRow

        public init(keyID: KeyID, node16: UInt16, row: WriterRegistryRow) {
            self.keyID = keyID
            self.node16 = node16
            self.row = row
        }
    }

    /// Whether the answering node runs with `--encryption-enabled`.
    public var encryptionEnabled: Bool
    /// The index of the last encryption entry the state reflects (0 before the bootstrap).
    public var raftAppliedIndex: UInt64
    public var storageEnvelopeActive: Bool
    /// The index of the enable-raft-envelope entry; `nil` before Phase 2.
    public var raftEnvelopeCutoverIndex: UInt64?
    public var activeStorageKeyID: KeyID?
    public var activeRaftKeyID: KeyID?
    /// Every unretired DEK, by ascending id.
    public var keys: [Key]
    /// The registry rows asked for.
    public var registry: [RegistryRow]
    /// The answering node's KEK providers, in configuration order.
    public var kekProviders: [KEKProviderHealth]
    /// The automatic rotation policy in force.
    public var rotationPolicy: RotationPolicy
    /// Whether a policy was ever set (otherwise ``rotationPolicy`` is ``RotationPolicy/default``).
    public var rotationPolicyIsSet: Bool
    /// Voters and learners: the replicas that each seal every stored value.
    public var memberCount: Int

    public init(encryptionEnabled: Bool, raftAppliedIndex: UInt64, storageEnvelopeActive: Bool,
                raftEnvelopeCutoverIndex: UInt64?, activeStorageKeyID: KeyID?, activeRaftKeyID: KeyID?,
                keys: [Key], registry: [RegistryRow], kekProviders: [KEKProviderHealth] = [],
                rotationPolicy: RotationPolicy? = nil, memberCount: Int = 1) {
        self.kekProviders = kekProviders
        self.rotationPolicy = rotationPolicy ?? .default
        self.rotationPolicyIsSet = rotationPolicy != nil
        self.memberCount = memberCount
        self.encryptionEnabled = encryptionEnabled
        self.raftAppliedIndex = raftAppliedIndex
        self.storageEnvelopeActive = storageEnvelopeActive
        self.raftEnvelopeCutoverIndex = raftEnvelopeCutoverIndex
        self.activeStorageKeyID = activeStorageKeyID
        self.activeRaftKeyID = activeRaftKeyID
        self.keys = keys
        self.registry = registry
    }
}

/// What a mutator did: the index of the entry it committed (0 when nothing needed to change) and a summary.
public struct EncryptionChange: Sendable, Hashable {
    public var index: UInt64
    /// One human sentence, e.g. "storage DEK 305419896 is active"; never key bytes.
    public var summary: String

    public init(index: UInt64, summary: String) {
        self.index = index
        self.summary = summary
    }
}

/// Why an encryption operation was refused; the description is what the CLI prints.
public enum EncryptionControlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Only the leader runs mutators; carries the leader's gRPC address when known.
    case notLeader(leaderAddress: String?)
    /// This node was started without `--encryption-enabled`.
    case encryptionNotEnabled
    /// This node has no KEK (`--kek-file` or `ELASTICKV_KEK_BASE64`).
    case kekMissing
    /// `ErrCapabilityCheckFailed`: these members did not answer, or answered not capable, within the timeout.
    case capabilityCheckFailed([String])
    /// The operation's precondition does not hold (not bootstrapped, key active, key still needed, …).
    case refused(String)
    /// User proposals are held by the Phase 2 barrier or leadership is moving; retry.
    case retryable(String)
    /// The entry was proposed but not applied in time; it may still take effect.
    case timeout
    /// The node stopped applying; it must be restarted.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notLeader(let address):
            return "FAILED_PRECONDITION: this node is not the leader"
                + (address.map { "; the leader is at \($0)" } ?? "; no leader is known yet")
        case .encryptionNotEnabled:
            return "FAILED_PRECONDITION: this node was started without --encryption-enabled"
        case .kekMissing:
            return "FAILED_PRECONDITION: this node has no KEK; start it with --kek-file"
        case .capabilityCheckFailed(let nodes):
            return "ErrCapabilityCheckFailed: not every member is encryption-capable with this KEK: "
                + nodes.joined(separator: ", ")
        case .refused(let reason): return reason
        case .retryable(let reason): return "retry: \(reason)"
        case .timeout: return "timed out; the change may still take effect — check `encryption status`"
        case .unavailable(let reason): return "the node is unavailable: \(reason)"
        }
    }
}
