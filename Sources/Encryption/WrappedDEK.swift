/// The bytes a KEK provider returned when it wrapped a DEK.
///
/// Wrapped keys are safe to store and to leak, but they are still key material: the description and the debug
/// description only show the length, so no log line or error message can carry them by accident.
public struct WrappedDEK: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The wrapped bytes exactly as the provider returned them.
    public let bytes: [UInt8]

    /// Wraps provider output.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { "WrappedDEK(\(bytes.count) bytes)" }
    public var debugDescription: String { description }
}
