/// A claim by one node to seal under one DEK with one local epoch (DESIGN §3.6).
///
/// A node may seal under DEK `dekID` with nonce prefix `(node16, localEpoch)` only after a registration with
/// exactly these values has been committed and applied.
public struct WriterRegistration: Sendable, Hashable, CustomStringConvertible {
    /// The DEK the node will seal under. Never 0.
    public let dekID: KeyID
    /// The node's full id (FNV-1a-64 of its `--node-id`). Never 0.
    public let fullNodeID: UInt64
    /// The local epoch the node will put into its nonces.
    public let localEpoch: UInt16

    public init(dekID: KeyID, fullNodeID: UInt64, localEpoch: UInt16) {
        self.dekID = dekID
        self.fullNodeID = fullNodeID
        self.localEpoch = localEpoch
    }

    /// The low 16 bits of ``fullNodeID``: the part of the nonce that names the writer.
    public var node16: UInt16 { UInt16(truncatingIfNeeded: fullNodeID) }

    /// The registry key this registration reads and writes.
    public var registryKey: WriterRegistryKey { WriterRegistryKey(dekID: dekID, node16: node16) }

    public var description: String { "registration(dek \(dekID), node \(fullNodeID), epoch \(localEpoch))" }
}
