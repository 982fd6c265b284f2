/// The key of a writer-registry row: one DEK and the 16 bits of node id that go into its nonces.
public struct WriterRegistryKey: Sendable, Hashable, CustomStringConvertible {
    public let dekID: KeyID
    public let node16: UInt16

    public init(dekID: KeyID, node16: UInt16) {
        self.dekID = dekID
        self.node16 = node16
    }

    public var description: String { "(dek \(dekID), node16 \(node16))" }
}

/// A writer-registry row: which node owns a nonce prefix under a DEK, and the local epochs it registered.
public struct WriterRegistryRow: Sendable, Hashable, CustomStringConvertible {
    public let fullNodeID: UInt64
    public let firstSeenLocalEpoch: UInt16
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

/// A failed read or write of the writer registry's backing store.
public struct WriterRegistryStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What the store was doing, e.g. `"insert row"`.
    public let operation: String
    /// Why it failed, for the operator; never row contents beyond ids.
    public let reason: String

    public init(operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "writer registry store could not \(operation): \(reason)" }
}

/// Where the writer registry's rows live: the FSM's store in a node, memory in tests.
///
/// The rows are replicated state, so a node must persist them atomically with the FSM's applied index: after
/// a crash the store then never holds the effect of an entry that will be applied again.
public protocol WriterRegistryStore: AnyObject {
    /// The row under `key`, if any.
    func row(for key: WriterRegistryKey) throws(WriterRegistryStoreError) -> WriterRegistryRow?

    /// Inserts or replaces the row under `key`.
    func setRow(_ row: WriterRegistryRow, for key: WriterRegistryKey) throws(WriterRegistryStoreError)

    /// Deletes every row of a DEK (its retirement).
    func removeRows(dekID: KeyID) throws(WriterRegistryStoreError)
}
