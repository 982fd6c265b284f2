/// Errors of the key-value layer. Descriptions never contain user values.
public enum KVError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A Raft payload could not be decoded; apply halts rather than skip it.
    case malformedEntry(String)
    /// A stored body is not a valid Redis value.
    case corruptValue(String)
    /// An encryption entry (0x03–0x05) arrived but this node has no encryption applier.
    case encryptionNotConfigured
    /// Opcode 0x02 or an unknown opcode: apply halts.
    case unsupportedOpcode(UInt8)
    /// A command exceeds a named limit (keys per command, value size).
    case limitExceeded(String)

    public var description: String {
        switch self {
        case .malformedEntry(let reason): return "malformed log entry: \(reason)"
        case .corruptValue(let reason): return "stored value is corrupt: \(reason)"
        case .encryptionNotConfigured:
            return "encryption entry in the log but encryption is not enabled on this node; start it with --encryption-enabled and its KEK"
        case .unsupportedOpcode(let opcode): return "unsupported FSM opcode 0x\(String(opcode, radix: 16))"
        case .limitExceeded(let reason): return "limit exceeded: \(reason)"
        }
    }
}
