/// Apply stopped at an entry it must not skip; the applied index stays before it.
///
/// The node stops applying (and serving writes) until an operator acts: the reason says what to do.
public struct ApplyHalt: Error, Hashable, Sendable, CustomStringConvertible {
    /// The index of the entry that could not be applied.
    public var index: UInt64
    /// What went wrong, already free of user values and key material.
    public var reason: String

    public init(index: UInt64, reason: String) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "apply halted at index \(index): \(reason)" }
}
