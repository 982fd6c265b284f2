/// The key of a writer-registry row: one DEK and the 16 bits of node id that go into its nonces.
public struct WriterRegistryKey: Sendable, Hashable, CustomStringConvertible {
    /// The DEK the row is about.
    public let dekID: KeyID
    /// The low 16 bits of the writer's full node id, as they appear in its nonces.
    public let node16: UInt16

    public init(dekID: KeyID, node16: UInt16) {
        self.dekID = dekID
        self.node16 = node16
    }

    public var description: String { "(dek \(dekID), node16 \(node16))" }
}
