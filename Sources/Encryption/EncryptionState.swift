/// A node's encryption state after the start-up checks: keys unwrapped, local epochs bumped and durable.
///
/// Only ``EncryptionStartup/start(encryptionEnabled:kekProvider:dataDirectory:fileSystem:identity:registry:warn:)``
/// makes one, so holding one proves that the sidecar on disk already carries ``sealingLocalEpochs``.
public struct EncryptionState: Sendable {
    /// This node (`--node-id`).
    public let identity: NodeIdentity
    /// The KEK provider the keys were unwrapped with; the applier unwraps new keys with it.
    public let kekProvider: any KEKProvider
    /// Every unretired DEK, unwrapped; the sidecar's active ids are active.
    public let keystore: Keystore
    /// The node's sidecar file.
    public let sidecarFile: SidecarFile
    /// The sidecar as written by this start; `nil` before the bootstrap.
    public let sidecar: Sidecar?
    /// The local epoch to seal with, per DEK, for this process (`NonceFactory(node16:localEpoch:)`).
    public let sealingLocalEpochs: [KeyID: UInt16]

    /// The registrations this node must get committed before it seals under each DEK (nonce invariant, §3.6).
    public var requiredRegistrations: [WriterRegistration] {
        sealingLocalEpochs.keys.sorted().map { id in
            WriterRegistration(dekID: id, fullNodeID: identity.fullNodeID, localEpoch: sealingLocalEpochs[id]!)
        }
    }

    /// The applier for this state's keys and sidecar.
    ///
    /// - Parameters:
    ///   - registry: the FSM's writer-registry rows.
    ///   - installRaftEnvelope: called with the cut-over index when enable-raft-envelope is applied or replayed.
    public func makeApplier(
        registry: any WriterRegistryStore,
        installRaftEnvelope: @escaping EncryptionApplier.RaftEnvelopeInstaller
    ) -> EncryptionApplier {
        EncryptionApplier(
            kekProvider: kekProvider, keystore: keystore, sidecarFile: sidecarFile, sidecar: sidecar,
            registry: registry, installRaftEnvelope: installRaftEnvelope)
    }
}
