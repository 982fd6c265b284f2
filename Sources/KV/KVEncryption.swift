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
    /// The raft cut-over this replica applied; wrap-on-propose and the apply hook follow it.
    public let raftCutover = RaftCutover()
    let registry: StoreWriterRegistry
    let store: MVCCStore

    /// Sets up encryption for a node whose start-up checks produced `state`.
    public init(state: EncryptionState, store: MVCCStore) throws(EnvelopeError) {
        self.store = store
        registry = StoreWriterRegistry(store: store)
        let cutover = raftCutover
        applier = state.makeApplier(registry: registry) { cutover.install($0) }
        keyring = SealingKeyring(keystore: state.keystore, node16: state.identity.node16)
        for (keyID, epoch) in state.sealingLocalEpochs.sorted(by: { $0.key < $1.key }) {
            try keyring.setLocalEpoch(epoch, for: keyID)
        }
        store.setSealer(EnvelopeValueSealer(keyring: keyring))
        try synchronizeSealing()
        if let cutover = state.sidecar?.raftEnvelopeCutoverIndex { raftCutover.install(cutover) }
    }

    public func applyEncryptionEntry(_ payload: [UInt8], index: UInt64, transaction: WriteTransaction)
        throws(ApplyHalt)
    {
        registry.transaction = transaction
        defer { registry.transaction = nil }
        _ = try applier.apply(payload: payload, index: index)
        if let sidecar = applier.sidecar {
            do throws(StorageError) {
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
        try applier.adopt(state)
        do throws(EnvelopeError) { try synchronizeSealing() } catch {
            preconditionFailure("the applier installs every key of the sidecar before its epoch is set: \(error)")
        }
    }

    /// Gives every key the sidecar holds its sealing epoch, and turns sealing of writes on when the storage
    /// envelope is active.
    func synchronizeSealing() throws(EnvelopeError) {
        guard let sidecar = applier.sidecar else { return }
        for keyID in sidecar.keys.keys.sorted() where keyring.localEpoch(for: keyID) == nil {
            if let epoch = applier.sealingLocalEpoch(for: keyID) { try keyring.setLocalEpoch(epoch, for: keyID) }
        }
        store.setSealsWrites(sidecar.storageEnvelopeActive)
    }
}
