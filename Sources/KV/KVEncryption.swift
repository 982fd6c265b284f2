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
