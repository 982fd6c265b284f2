/// The one error that stops the apply loop at an encryption entry.
///
/// Apply never skips a committed entry: when the applier throws this, the node must not advance its applied
/// index past ``index``. Every reason is deterministic (all replicas halt at the same entry) except the I/O
/// reasons (``isRetryable``), after which a restart replays the entry and converges.
public struct ApplyHalt: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why apply stopped.
    public enum Reason: Hashable, Sendable {
        /// The payload does not decode.
        case malformedEntry(EntryCodecError)
        /// A bootstrap or rotation registers a writer for a DEK the entry does not introduce.
        case registrationForOtherKey(KeyID)
        /// A bootstrap or rotation registers a writer at a local epoch other than 0.
        case registrationEpochNotZero(KeyID, UInt16)
        /// A second bootstrap differs from the first, or the sidecar's bootstrap is not this one.
        case conflictingBootstrap
        /// A key entry arrived before any bootstrap.
        case notBootstrapped
        /// A rotation reuses the id of a key with another purpose.
        case keyIDReused(KeyID)
        /// The entry names a key the sidecar does not hold.
        case unknownKey(KeyID)
        /// A retirement names the active key of its purpose.
        case retiringActiveKey(KeyID)
        /// An envelope cannot be enabled without an active key of its purpose.
        case noActiveKey(KeyPurpose)
        /// The configured KEK does not unwrap a DEK of the entry (`ErrKEKMismatch`).
        case kekMismatch(KeyID)
        /// No configured KEK provider answered when a DEK of the entry had to be unwrapped (`ErrKEKUnavailable`).
        case kekUnavailable(KeyID, reason: String)
        /// A rewrap's bytes unwrap to different key bytes than the keystore holds.
        case rewrapChangesKey(KeyID)
        /// The keystore refused a key.
        case keystoreRejected(KeystoreError)
        /// The sidecar records a cut-over that this entry contradicts (`ErrEnvelopeCutoverDivergence`).
        case cutoverDivergence(recorded: UInt64?)
        /// An entry after the raft cut-over is not a raft envelope (`ErrEnvelopeCutoverDivergence`).
        case cleartextAfterCutover(cutover: UInt64)
        /// An entry's raft envelope names a key this node lacks or fails authentication.
        case raftEnvelopeUnreadable(EnvelopeError)
        /// A replayed enable-storage-envelope finds the flag off in a sidecar that already holds its effect.
        case storageEnvelopeDivergence
        /// The crash-durable sidecar write failed.
        case sidecarWriteFailed(SidecarError)
        /// The writer registry's store failed.
        case registryStoreFailed(WriterRegistryStoreError)
    }

    /// The Raft index of the entry that could not be applied.
    public let index: UInt64
    /// Why apply stopped.
    public let reason: Reason

    public init(index: UInt64, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    /// Whether the cause was I/O, so a restart (which replays the entry) may succeed.
    public var isRetryable: Bool {
        switch reason {
        case .sidecarWriteFailed, .registryStoreFailed, .kekUnavailable: return true
        default: return false
        }
    }

    public var description: String {
        "encryption apply halted at entry \(index): \(explanation)"
    }

    private var explanation: String {
        let divergent = "replicas disagree on encryption state; stop the node and resync it from a healthy member"
        switch reason {
        case .malformedEntry(let error): return "\(error)"
        case .registrationForOtherKey(let id):
            return "a registration targets DEK \(id), which this entry does not introduce; \(divergent)"
        case .registrationEpochNotZero(let id, let epoch):
            return "a registration for new DEK \(id) has local_epoch \(epoch), not 0; \(divergent)"
        case .conflictingBootstrap:
            return "a bootstrap differs from the one already applied; \(divergent)"
        case .notBootstrapped: return "a key entry arrived before the bootstrap; \(divergent)"
        case .keyIDReused(let id): return "key id \(id) already names a key of another purpose; \(divergent)"
        case .unknownKey(let id): return "DEK \(id) is not in the sidecar; \(divergent)"
        case .retiringActiveKey(let id):
            return "DEK \(id) is active and cannot be retired; rotate first; \(divergent)"
        case .noActiveKey(let purpose):
            return "no active \(purpose.rawValue) DEK to enable the envelope with; \(divergent)"
        case .kekMismatch(let id):
            return "ErrKEKMismatch: DEK \(id) does not unwrap with any configured KEK (--kek, --kek-file); "
                + "configure one of the KEKs the cluster's keys are wrapped with and restart"
        case .kekUnavailable(let id, let reason):
            return "ErrKEKUnavailable: DEK \(id) cannot be unwrapped because no configured KEK provider answers "
                + "(\(reason)); restart the node once a provider is back (the entry is applied again then)"
        case .rewrapChangesKey(let id):
            return "re-wrapped DEK \(id) unwraps to other key bytes than the keystore holds; \(divergent)"
        case .keystoreRejected(let error): return "\(error); \(divergent)"
        case .cutoverDivergence(let recorded):
            return "ErrEnvelopeCutoverDivergence: the sidecar records raft cut-over at "
                + "\(recorded.map(String.init) ?? "none"); \(divergent)"
        case .cleartextAfterCutover(let cutover):
            return "ErrEnvelopeCutoverDivergence: the entry follows the raft cut-over at \(cutover) but is not a "
                + "raft envelope; \(divergent)"
        case .raftEnvelopeUnreadable(let error):
            return "the entry's raft envelope does not open (\(error)); check the KEK and the data dir's integrity"
        case .storageEnvelopeDivergence:
            return "the sidecar holds this enable-storage-envelope entry but the storage envelope is off; \(divergent)"
        case .sidecarWriteFailed(let error): return "\(error)"
        case .registryStoreFailed(let error): return "\(error); fix the store and restart"
        }
    }
}
