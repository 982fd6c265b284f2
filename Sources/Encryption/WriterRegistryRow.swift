/// A writer-registry row: which node owns a nonce prefix under a DEK, and the local epochs it registered.
public struct WriterRegistryRow: Sendable, Hashable, CustomStringConvertible {
    /// The node that owns the nonce prefix.
    public let fullNodeID: UInt64
    /// The first local epoch the node registered under the DEK.
    public let firstSeenLocalEpoch: UInt16
    /// The latest local epoch the node registered; it may seal with this epoch and no other.
    public let lastSeenLocalEpoch: UInt16

    public init(fullNodeID: UInt64, firstSeenLocalEpoch: UInt16, lastSeenLocalEpoch: UInt16) {
        precondition(firstSeenLocalEpoch <= lastSeenLocalEpoch, "a registry row's first epoch never exceeds its last")
        self.fullNodeID = fullNodeID
        self.firstSeenLocalEpoch = firstSeenLocalEpoch
        self.lastSeenLocalEpoch = lastSeenLocalEpoch
    }

    public var description: String {
        "node \(fullNodeID), epochs \(firstSeenLocalEpoch)...\(lastSeenLocalEpoch)"
    }
}
