import ElastickvAPI

extension Elastickv_V1_CapabilityResponse {
    /// The wire form of a node's capability.
    public init(_ capability: EncryptionCapability) {
        self.init()
        nodeID = capability.nodeName
        fullNodeID = capability.fullNodeID
        encryptionCapable = capability.encryptionCapable
        buildID = capability.buildID
        sidecarPresent = capability.sidecarPresent
        localEpoch = UInt32(capability.localEpoch)
        kekCheck = capability.kekCheck
        raftLogKeyIds = capability.raftLogKeyIDs
    }
}

extension EncryptionCapability {
    /// Decodes a capability answer.
    ///
    /// - Throws: `EncryptionWireError.localEpochOutOfRange` when `local_epoch` is above 0xFFFF.
    public init(_ wire: Elastickv_V1_CapabilityResponse) throws(EncryptionWireError) {
        self.init(
            nodeName: wire.nodeID, fullNodeID: wire.fullNodeID, encryptionCapable: wire.encryptionCapable,
            buildID: wire.buildID, sidecarPresent: wire.sidecarPresent,
            localEpoch: try EncryptionWire.localEpoch(wire.localEpoch, field: "local_epoch"), kekCheck: wire.kekCheck,
            raftLogKeyIDs: wire.raftLogKeyIds)
    }
}
