import Encryption

/// Why an `EncryptionAdmin` message was refused when decoded; the description names the field and the bound.
///
/// The same checks run on the server (a bad request is `INVALID_ARGUMENT`) and in the CLI (a bad answer is
/// reported instead of printed), so neither side acts on a value the other side could not have meant.
public enum EncryptionWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A local epoch above 0xFFFF: epochs are 16 bits wide in every nonce, so the value cannot be real.
    case localEpochOutOfRange(field: String, value: UInt32)
    /// A node16 above 0xFFFF: it is the low 16 bits of a full node id.
    case node16OutOfRange(field: String, value: UInt32)
    /// `node16` is set while `has_node16` is false, so the caller's intent is unclear.
    case node16WithoutFlag(UInt32)
    /// Key id 0 where a key must be named; 0 never names a key.
    case zeroKeyID(field: String)
    /// Full node id 0, which no node has (DESIGN §3.1).
    case zeroFullNodeID(field: String)
    /// A purpose other than `storage` or `raft`.
    case unknownPurpose(field: String, value: String)
    /// A registry row whose first epoch is above its last.
    case epochsOutOfOrder(field: String, first: UInt16, last: UInt16)
    /// A registration request with no registrations or more than one entry can carry.
    case registrationCount(Int, maximum: Int)
    /// A KEK provider state other than unknown, up, down or circuit-open.
    case unknownProviderState(field: String, value: String)
    /// A rotation policy bound above its maximum (100 years, 2^32 seals).
    case rotationPolicyOutOfRange(String)
    /// A rewrite state other than none, running or finished.
    case unknownRewriteState(String)

    public var description: String {
        switch self {
        case .localEpochOutOfRange(let field, let value):
            return "\(field) \(value) is above the maximum local epoch 65535 (0xFFFF)"
        case .node16OutOfRange(let field, let value):
            return "\(field) \(value) is above the maximum node16 65535 (0xFFFF)"
        case .node16WithoutFlag(let value):
            return "node16 \(value) is set but has_node16 is false"
        case .zeroKeyID(let field):
            return "\(field) must name a key; 0 is never a key id"
        case .zeroFullNodeID(let field):
            return "\(field) must not be 0"
        case .unknownPurpose(let field, let value):
            return "\(field) '\(value)' is not a key purpose; expected storage or raft"
        case .epochsOutOfOrder(let field, let first, let last):
            return "\(field) first_seen_local_epoch \(first) is above last_seen_local_epoch \(last)"
        case .registrationCount(let count, let maximum):
            return "registrations has \(count) entries; expected 1 to \(maximum)"
        case .unknownProviderState(let field, let value):
            return "\(field) '\(value)' is not a KEK provider state; expected unknown, up, down or circuit-open"
        case .unknownRewriteState(let value):
            return "rewrite state '\(value)' is not none, running or finished"
        case .rotationPolicyOutOfRange(let policy):
            return "rotation policy (\(policy)) is out of range: at most \(RotationPolicy.maximumRotateAfterSeconds) s "
                + "and \(RotationPolicy.maximumRotateAfterSeals) seals"
        }
    }
}
