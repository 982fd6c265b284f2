/// Why a Raft message could not be encoded for, or decoded from, the wire.
///
/// Decoding errors mean the peer sent bytes this build does not accept (a newer format, a different limit
/// configuration, or corruption); the transport drops such a frame and counts it, and Raft recovers the
/// lost message by retrying. Encoding errors mean a message exceeds this node's own ``WireLimits``: raise
/// the limit on every member, or lower the core's corresponding limit.
public enum WireCodecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended `needed - available` bytes too early.
    case truncated(needed: Int, available: Int)
    /// The format version byte is not one this build reads.
    case unsupportedVersion(UInt8)
    /// The message kind byte names no ``MessageKind``.
    case unknownMessageKind(UInt8)
    /// An entry's kind byte names no ``EntryKind``.
    case unknownEntryKind(UInt8)
    /// The flags byte sets bits this format reserves.
    case reservedFlags(UInt8)
    /// A count or length exceeds its limit in ``WireLimits``; `field` names which one.
    case limitExceeded(field: String, value: UInt64, limit: Int)
    /// Bytes were left after a complete message.
    case trailingBytes(count: Int)
    /// A field holds a value the format does not allow; the string names the field and the value.
    case invalidField(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            return "raft message truncated: needed \(needed) more bytes, \(available) available; the frame is damaged"
        case .unsupportedVersion(let version):
            return "raft message format version \(version) is not supported; run the same build on every member"
        case .unknownMessageKind(let kind):
            return "unknown raft message kind \(kind); run the same build on every member"
        case .unknownEntryKind(let kind):
            return "unknown raft entry kind \(kind); run the same build on every member"
        case .reservedFlags(let flags):
            return "raft message flags 0x\(String(flags, radix: 16)) set reserved bits; run the same build everywhere"
        case .limitExceeded(let field, let value, let limit):
            return "raft message \(field) \(value) exceeds the limit \(limit); raise WireLimits on every member "
                + "or lower the matching RaftConfiguration limit"
        case .trailingBytes(let count):
            return "\(count) unexpected bytes after the end of a raft message; the frame is damaged"
        case .invalidField(let what):
            return "invalid raft message field: \(what)"
        }
    }

    /// Translates an error of the shared byte reader (and of the configuration codec) into a wire error.
    init(_ error: StorageFormatError) {
        switch error {
        case .truncated(let needed, let available): self = .truncated(needed: needed, available: available)
        case .trailingBytes(let count): self = .trailingBytes(count: count)
        case .invalidField(let what): self = .invalidField(what)
        case .unsupportedVersion, .badMagic, .checksumMismatch: self = .invalidField(error.description)
        }
    }
}
