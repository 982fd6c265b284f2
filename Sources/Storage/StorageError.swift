/// A failure of the MVCC store. Descriptions never contain user values or key material.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// SQLite returned an error; `code` is its extended result code, `context` the statement's purpose.
    case sqlite(code: Int32, message: String, context: String)
    /// A stored value record is malformed (short header, reserved bits set, reserved enc_state).
    case corruptRecord(reason: String)
    /// A sealed value failed authentication: it was altered, moved to another key or version, or the key is
    /// wrong. Never answered with empty or wrong bytes.
    case integrityFailure
    /// A sealed value was read but no storage sealer is configured on this node.
    case sealerUnavailable
    /// A sealed value names a storage key this node does not hold.
    case keyUnavailable(keyID: UInt32)
    /// A value could not be sealed (no active key yet, local epoch not registered, …); nothing was written.
    case sealingFailed(reason: String)
    /// The snapshot stream is malformed or its checksum does not match.
    case corruptSnapshot(reason: String)
    /// An applied index would move backwards or stay in place.
    case appliedIndexRegression(current: UInt64, proposed: UInt64)
    /// A value exceeds ``MVCCStore/Limits/maxValueBytes``.
    case valueTooLarge(size: Int, limit: Int)
    /// A commit timestamp must be below 2^63 (SQLite stores it as a signed integer).
    case timestampOutOfRange(UInt64)
    /// A compressed value was refused before or while decoding it (malformed frame, no declared size, or a
    /// size above the value limit); nothing larger than one value is ever allocated for it.
    case compressedValueRefused(reason: String)

    public var description: String {
        switch self {
        case .sqlite(let code, let message, let context):
            return "SQLite error \(code) during \(context): \(message)"
        case .corruptRecord(let reason): return "stored value record is corrupt: \(reason)"
        case .integrityFailure:
            return "stored value failed authentication (altered, moved, or sealed with another key)"
        case .sealerUnavailable:
            return "stored value is sealed but this node has no storage key loaded; start it with its KEK"
        case .keyUnavailable(let keyID):
            return "stored value is sealed under key id \(keyID), which this node does not hold; resync the sidecar"
        case .sealingFailed(let reason): return "value could not be sealed: \(reason)"
        case .corruptSnapshot(let reason): return "snapshot stream is corrupt: \(reason)"
        case .appliedIndexRegression(let current, let proposed):
            return "applied index may only grow (current \(current), proposed \(proposed))"
        case .valueTooLarge(let size, let limit): return "value of \(size) bytes exceeds the limit of \(limit) bytes"
        case .timestampOutOfRange(let ts): return "commit timestamp \(ts) is not below 2^63"
        case .compressedValueRefused(let reason):
            return "compressed value refused: \(reason)"
        }
    }
}
