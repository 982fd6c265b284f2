/// The answer a client saw.
public enum RegisterOutput: Sendable, Hashable {
    /// A put was applied.
    case ok
    /// A get returned the register's value (`nil` when never written).
    case value(UInt64?)
}
