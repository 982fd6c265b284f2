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
