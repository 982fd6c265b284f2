import ElastickvAPI
import Encryption
import Foundation

extension Elastickv_V1_SidecarStateResponse {
    /// The wire form of a node's applied encryption state; absent indexes and key ids travel as 0.
    public init(_ status: EncryptionStatus) {
        self.init()
        encryptionEnabled = status.encryptionEnabled
        raftAppliedIndex = status.raftAppliedIndex
        storageEnvelopeActive = status.storageEnvelopeActive
        raftEnvelopeCutoverIndex = status.raftEnvelopeCutoverIndex ?? 0
        activeStorageKeyID = status.activeStorageKeyID ?? 0
        activeRaftKeyID = status.activeRaftKeyID ?? 0
        keys = status.keys.map { key in
            var wire = Elastickv_V1_EncryptionKey()
            wire.keyID = key.keyID
            wire.purpose = key.purpose.rawValue
            wire.wrapped = Data(key.wrapped)
            wire.created = key.created
            wire.localEpoch = UInt32(key.localEpoch)
            wire.wrappedBy = key.wrappedBy
            wire.sealCount = key.sealCount
            return wire
        }
        rotationPolicy.rotateAfterSeconds = status.rotationPolicy.rotateAfterSeconds
        rotationPolicy.rotateAfterSeals = status.rotationPolicy.rotateAfterSeals
        rotationPolicy.rewriteAfterRotate = status.rotationPolicy.rewriteAfterRotate
        rotationPolicySet = status.rotationPolicyIsSet
        memberCount = UInt32(clamping: status.memberCount)
        kekProviders = status.kekProviders.map { provider in
            var wire = Elastickv_V1_KEKProviderStatus()
            wire.kekID = provider.kekID
            wire.scheme = provider.scheme
            wire.primary = provider.primary
            wire.state = provider.state.rawValue
            wire.consecutiveFailures = UInt32(clamping: provider.consecutiveFailures)
            wire.lastError = provider.lastError ?? ""
            return wire
        }
        registry = status.registry.map { entry in
            var wire = Elastickv_V1_WriterRegistryRow()
            wire.keyID = entry.keyID
            wire.node16 = UInt32(entry.node16)
            wire.fullNodeID = entry.row.fullNodeID
            wire.firstSeenLocalEpoch = UInt32(entry.row.firstSeenLocalEpoch)
            wire.lastSeenLocalEpoch = UInt32(entry.row.lastSeenLocalEpoch)
            return wire
        }
    }
}

extension EncryptionStatus {
    /// Decodes a sidecar-state answer; 0 in the index and active-key fields means none.
    ///
    /// - Throws: `EncryptionWireError` for a key or registry row with key id 0, an unknown purpose, an epoch or
    ///   node16 above 0xFFFF, or a registry row whose first epoch is above its last.
    public init(_ wire: Elastickv_V1_SidecarStateResponse) throws(EncryptionWireError) {
        var keys: [Key] = []
        for (position, key) in wire.keys.enumerated() {
            keys.append(try Key(key, field: "keys[\(position)]"))
        }
        var registry: [RegistryRow] = []
        for (position, row) in wire.registry.enumerated() {
            registry.append(try RegistryRow(row, field: "registry[\(position)]"))
        }
        var providers: [KEKProviderHealth] = []
        for (position, provider) in wire.kekProviders.enumerated() {
            guard let state = KEKProviderHealth.State(rawValue: provider.state) else {
                throw .unknownProviderState(field: "kek_providers[\(position)].state", value: provider.state)
            }
            providers.append(KEKProviderHealth(
                kekID: provider.kekID, scheme: provider.scheme, primary: provider.primary, state: state,
                consecutiveFailures: Int(provider.consecutiveFailures),
                lastError: provider.lastError.isEmpty ? nil : provider.lastError))
        }
        let policy = RotationPolicy(rotateAfterSeconds: wire.rotationPolicy.rotateAfterSeconds,
                                    rotateAfterSeals: wire.rotationPolicy.rotateAfterSeals,
                                    rewriteAfterRotate: wire.rotationPolicy.rewriteAfterRotate)
        guard policy.isValid else { throw .rotationPolicyOutOfRange(policy.description) }
        self.init(
            encryptionEnabled: wire.encryptionEnabled, raftAppliedIndex: wire.raftAppliedIndex,
            storageEnvelopeActive: wire.storageEnvelopeActive,
            raftEnvelopeCutoverIndex: wire.raftEnvelopeCutoverIndex == 0 ? nil : wire.raftEnvelopeCutoverIndex,
            activeStorageKeyID: EncryptionWire.optionalKeyID(wire.activeStorageKeyID),
            activeRaftKeyID: EncryptionWire.optionalKeyID(wire.activeRaftKeyID), keys: keys, registry: registry,
            kekProviders: providers, rotationPolicy: wire.rotationPolicySet ? policy : nil,
            memberCount: Int(wire.memberCount))
    }
}

extension EncryptionStatus.Key {
    fileprivate init(_ wire: Elastickv_V1_EncryptionKey, field: String) throws(EncryptionWireError) {
        self.init(
            keyID: try EncryptionWire.keyID(wire.keyID, field: "\(field).key_id"),
            purpose: try EncryptionWire.purpose(wire.purpose, field: "\(field).purpose"), wrapped: Array(wire.wrapped),
            created: wire.created,
            localEpoch: try EncryptionWire.localEpoch(wire.localEpoch, field: "\(field).local_epoch"),
            wrappedBy: wire.wrappedBy, sealCount: wire.sealCount)
    }
}

extension EncryptionStatus.RegistryRow {
    fileprivate init(_ wire: Elastickv_V1_WriterRegistryRow, field: String) throws(EncryptionWireError) {
        let first = try EncryptionWire.localEpoch(wire.firstSeenLocalEpoch, field: "\(field).first_seen_local_epoch")
        let last = try EncryptionWire.localEpoch(wire.lastSeenLocalEpoch, field: "\(field).last_seen_local_epoch")
        guard first <= last else { throw .epochsOutOfOrder(field: field, first: first, last: last) }
        self.init(
            keyID: try EncryptionWire.keyID(wire.keyID, field: "\(field).key_id"),
            node16: try EncryptionWire.node16(wire.node16, field: "\(field).node16"),
            row: WriterRegistryRow(fullNodeID: wire.fullNodeID, firstSeenLocalEpoch: first, lastSeenLocalEpoch: last))
    }
}
