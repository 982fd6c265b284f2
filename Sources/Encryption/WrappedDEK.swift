/// The bytes a KEK provider returned when it wrapped a DEK, and, with several KEKs, the wrap by each one.
///
/// Wrapped keys are safe to store and to leak, but they are still key material: the description and the debug
/// description only show lengths and kek ids, so no log line or error message can carry them by accident.
///
/// ``bytes`` is the primary KEK's wrap (the sidecar's `wrapped`, DESIGN §3.5). ``wraps`` is empty for a key
/// wrapped by a single KEK whose id was not recorded (every key before multi-KEK support); otherwise it has one
/// item per configured KEK, primary first, and its first item's bytes equal ``bytes``.
public struct WrappedDEK: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The wrapped bytes exactly as the (primary) provider returned them.
    public let bytes: [UInt8]
    /// The wrap by every KEK that wrapped the key, primary first; empty for a single unnamed KEK.
    public let wraps: [KEKWrap]

    /// Wraps the output of a single provider.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.wraps = []
    }

    /// Wraps the outputs of several KEKs, primary first.
    ///
    /// - Precondition: `wraps` is not empty and names each kek id once.
    public init(wraps: [KEKWrap]) {
        precondition(!wraps.isEmpty, "a multi-KEK wrap has at least the primary's item")
        precondition(Set(wraps.map(\.kekID)).count == wraps.count, "each KEK wraps a DEK once")
        self.bytes = wraps[0].bytes
        self.wraps = wraps
    }

    /// The ids of the KEKs that wrapped the key, primary first (empty for a single unnamed KEK).
    public var kekIDs: [String] { wraps.map(\.kekID) }

    /// The bytes the KEK `kekID` wrapped, if it did.
    public func bytes(for kekID: String) -> [UInt8]? {
        wraps.first { $0.kekID == kekID }?.bytes
    }

    public var description: String {
        wraps.isEmpty
            ? "WrappedDEK(\(bytes.count) bytes)"
            : "WrappedDEK(\(wraps.map { "\($0.kekID): \($0.bytes.count) bytes" }.joined(separator: ", ")))"
    }
    public var debugDescription: String { description }
}

/// One KEK's wrap of a DEK: the KEK's id (DESIGN §3.4) and the bytes its provider returned.
public struct KEKWrap: Sendable, Hashable, CustomStringConvertible {
    /// The kek id: 16 hex digits for `file:`/`env:` KEKs, the URI without its query otherwise.
    public let kekID: String
    /// The wrapped bytes as the provider returned them.
    public let bytes: [UInt8]

    public init(kekID: String, bytes: [UInt8]) {
        self.kekID = kekID
        self.bytes = bytes
    }

    public var description: String { "KEKWrap(\(kekID), \(bytes.count) bytes)" }
}
