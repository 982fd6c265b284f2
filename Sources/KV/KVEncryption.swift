import Encryption
import Storage

/// Connects the encryption life cycle to the state machine and the store on one node.
///
/// Routes encryption entries to the ``EncryptionApplier`` with the writer registry in the batch's store
/// transaction, and after each one brings the node's sealing in line with the sidecar: new keys get their
/// local epoch in the keyring, and the store seals every write once `storage_envelope_active` is set.
public final class KVEncryption: EncryptionEntryApplier {
    public let applier: EncryptionApplier
    public let keyring: SealingKeyring
    /// Names collection elements under the index key the applier installs.
    public let elementIndexes: ElementIndexes
    /// The raft cut-over this replica applied; wrap-on-propose and the apply hook follow it.
    public let raftCutover = RaftCutover()
    /// The registrations of the epochs this process loaded its keys with, until the cluster has committed them.
    ///
    /// Nonce invariant (DESIGN §3.6): until then the keyring has no epoch for those keys, so nothing is sealed
    /// under them; see ``confirmRegistrations()``.
    public private(set) var pendingRegistrations: [WriterRegistration]
    public let identity: NodeIdentity
    /// Envelopes (storage values, raft payloads) that failed to open on this node.
    public let decryptFailures = DecryptFailures()
    let registry: StoreWriterRegistry
    let store: MVCCStore
    /// The index of a rewrite run's last chunk once it applied, until the node takes it (the node then
    /// snapshots, compacts its log and truncates the store's WAL, so no old bytes stay in any file).
    public var finishedRewriteIndex: UInt64?

    /// Sets up encryption for a node whose start-up checks produced `state`.
    ///
    /// Keys loaded from the sidecar seal only after ``pendingRegistrations`` is committed; keys that entries
    /// install while the process runs seal at once with the epoch 0 their entry registered.
    /// - Parameter compression: whether values are compressed before sealing (values read either way).
    public init(state: EncryptionState, store: MVCCStore, compression: ValueCompression = .zstd)
        throws(EnvelopeError)
    {
        self.store = store
        identity = state.identity
        pendingRegistrations = state.requiredRegistrations
        registry = StoreWriterRegistry(store: store)
        let cutover = raftCutover
        applier = state.makeApplier(registry: registry) { cutover.install($0) }
        keyring = SealingKeyring(keystore: state.keystore, node16: state.identity.node16)
        elementIndexes = ElementIndexes(keystore: state.keystore)
        store.setSealer(EnvelopeValueSealer(
            keyring: keyring, failures: decryptFailures, compression: compression,
            maximumValueByteCount: store.limits.maxValueBytes))
        try synchronizeSealing()
        if let cutover = state.sidecar?.raftEnvelopeCutoverIndex { raftCutover.install(cutover) }
    }

    public func applyEncryptionEntry(_ payload: [UInt8], index: UInt64, transaction: WriteTransaction)
        throws(ApplyHalt)
    {
        registry.transaction = transaction
        defer { registry.transaction = nil }
        let outcome = try applier.apply(payload: payload, index: index)
        if outcome == .applied, case .rewriteChunk(let chunk)? = try? EncryptionEntry.decode(payload) {
            do throws(StorageError) {
                if let run = try StorageRewrite.apply(chunk, index: index, in: transaction), run.isFinished {
                    finishedRewriteIndex = index
                }
            } catch {
                throw ApplyHalt(index: index, reason: .registryStoreFailed(
                    WriterRegistryStoreError(operation: "re-seal stored versions", reason: error.description)))
            }
        }
        if let sidecar = applier.sidecar {
            do throws(StorageError) {
                // A retired key's seal count goes with it (the decode cannot fail: the applier just did it).
                if case .retireDEK(let keyID)? = try? EncryptionEntry.decode(payload), sidecar.keys[keyID] == nil {
                    try transaction.removeSealCount(of: keyID)
                }
                try transaction.setMeta(Self.replicatedStateMetaName, value: sidecar.replicatedState.encodedJSON())
            } catch {
                throw ApplyHalt(index: index, reason: .registryStoreFailed(
                    WriterRegistryStoreError(operation: "record the encryption state", reason: error.description)))
            }
        }
        do throws(EnvelopeError) { try synchronizeSealing() } catch {
            preconditionFailure("the applier installs every key of the sidecar before its epoch is set: \(error)")
        }
    }

    /// The store row holding the replicated encryption state as of the applied index, so that snapshots carry
    /// it and start-up can tell a sidecar that lags the store (`ErrSidecarBehindRaftLog`).
    public static let replicatedStateMetaName = "encryption.replicated_state"

    /// The replicated encryption state the store holds; `nil` before the bootstrap.
    ///
    /// - Throws: the store's error, or ``SidecarError`` when the row does not parse.
    public static func replicatedState(in store: MVCCStore) throws -> Sidecar? {
        guard let bytes = try store.meta(replicatedStateMetaName) else { return nil }
        return try Sidecar(json: bytes, path: "\(replicatedStateMetaName) in the store")
    }

    /// After a snapshot was installed: adopts the encryption state it carried (keys, flags, cut-over) and
    /// writes it to the sidecar before any later entry applies.
    ///
    /// - Throws: ``ApplyHalt`` as ``EncryptionApplier/adopt(_:)``, or for a state row that does not parse.
    public func adoptSnapshotState(at index: UInt64) throws(ApplyHalt) {
        let state: Sidecar?
        do { state = try Self.replicatedState(in: store) } catch {
            throw ApplyHalt(index: index, reason: .registryStoreFailed(
                WriterRegistryStoreError(operation: "read the encryption state", reason: "\(error)")))
        }
        guard let state else { return }
        var registered: [KeyID: UInt16] = [:]
        for id in state.keys.keys {
            if let row = try? store.registryRow(dekID: id, node16: identity.node16), row.fullNodeID == identity.fullNodeID {
                registered[id] = row.lastSeenLocalEpoch
            }
        }
        try applier.adopt(state, registeredEpochs: registered)
        do throws(EnvelopeError) { try synchronizeSealing() } catch {
            preconditionFailure("the applier installs every key of the sidecar before its epoch is set: \(error)")
        }
    }

    /// Gives every key the sidecar holds its sealing epoch, and turns sealing of writes on when the storage
    /// envelope is active.
    func synchronizeSealing() throws(EnvelopeError) {
        guard let sidecar = applier.sidecar else { return }
        let pending = Set(pendingRegistrations.map(\.dekID))
        for keyID in sidecar.keys.keys.sorted() where sidecar.keys[keyID]!.purpose.seals
            && keyring.localEpoch(for: keyID) == nil && !pending.contains(keyID) {
            if let epoch = applier.sealingLocalEpoch(for: keyID) { try keyring.setLocalEpoch(epoch, for: keyID) }
        }
        store.setSealsWrites(sidecar.storageEnvelopeActive)
    }
}

extension KVEncryption {
    /// The cluster committed ``pendingRegistrations``: the loaded keys may seal with their epochs from now on.
    public func confirmRegistrations() {
        pendingRegistrations = []
        do throws(EnvelopeError) { try synchronizeSealing() } catch {
            preconditionFailure("the applier installs every key of the sidecar before its epoch is set: \(error)")
        }
    }

    /// After the cluster refused a registration as a rollback: moves the key's epoch past the one the registry
    /// holds, durably, and returns the batch to register instead.
    ///
    /// - Throws: ``SidecarError`` when the sidecar cannot be written; ``StartupError/localEpochExhausted``'s
    ///   condition is reported as `nil` (no higher epoch exists).
    public func rederivePendingEpoch(of keyID: KeyID, above lastSeen: UInt16) throws(SidecarError)
        -> [WriterRegistration]?
    {
        guard lastSeen < UInt16.max else { return nil }
        try applier.raiseLocalEpochs([keyID: lastSeen + 1])
        pendingRegistrations = pendingRegistrations.map { registration in
            guard registration.dekID == keyID else { return registration }
            return WriterRegistration(dekID: keyID, fullNodeID: registration.fullNodeID,
                                      localEpoch: max(registration.localEpoch, lastSeen + 1))
        }
        return pendingRegistrations
    }
}
