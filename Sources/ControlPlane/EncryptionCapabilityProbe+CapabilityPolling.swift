/// The gRPC implementation of the leader's capability poll: `node.attachCapabilityPoller(EncryptionCapabilityProbe())`.
extension EncryptionCapabilityProbe: CapabilityPolling {}
