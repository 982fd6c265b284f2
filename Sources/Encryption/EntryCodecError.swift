/// An encryption entry payload that does not follow `docs/formats.md`.
///
/// A committed entry that fails to decode halts apply: the replica never guesses what the leader meant. The
/// description names the field and the limit, never the bytes.
public enum EntryCodecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The payload ended inside the named field.
    case truncated(field: String)
    /// The first byte is not 0x03, 0x04 or 0x05.
    case unknownOpcode(UInt8)
    /// The second byte of a 0x05 entry is not a known sub-tag.
    case unknownSubTag(UInt8)
    /// The body version byte is not one this build reads.
    case unsupportedVersion(UInt8)
    /// A purpose byte is not 1 (storage), 2 (raft) or 3 (index).
    case unknownPurpose(UInt8)
    /// A key id field holds 0, which never names a key.
    case zeroKeyID(field: String)
    /// A registration names full node id 0, which no node has.
    case zeroNodeID
    /// A count lies outside `minimum...maximum`.
    case countOutOfRange(field: String, count: Int, minimum: Int, maximum: Int)
    /// A wrapped DEK is empty or longer than ``EntryLimits/maxWrappedDEKBytes``.
    case wrappedDEKLength(Int)
    /// The creation time is later than ``EntryLimits/maxCreatedUnixSeconds``.
    case createdOutOfRange(UInt64)
    /// A bootstrap does not carry exactly one storage and one raft key with distinct ids.
    case bootstrapKeysInvalid
    /// A rotation names its new key as the key it replaces.
    case rotationReplacesItself(KeyID)
    /// A key id appears twice in one rewrap entry.
    case duplicateKeyID(KeyID)
    /// A new key has a purpose the entry cannot introduce (a rotation of the index key, an index key of
    /// another purpose).
    case purposeNotAllowed(field: String, KeyPurpose)
    /// Bytes remain after the last field.
    case trailingBytes(count: Int)
    /// A kek id is empty or longer than ``EntryLimits/maxKEKIDBytes``.
    case kekIDLength(Int)
    /// A kek id is not valid UTF-8.
    case kekIDNotUTF8
    /// A DEK names the same KEK twice in its wraps.
    case duplicateKEKID
    /// A rotation policy bound is above its maximum.
    case policyBoundOutOfRange(field: String, UInt64, maximum: UInt64)
    /// A flags byte has bits set that this version does not define.
    case reservedBits(field: String, UInt8)
    /// A commit timestamp is not below 2^63.
    case timestampOutOfRange(field: String, UInt64)
    /// A rewrite chunk's end does not come after its start.
    case emptyRewriteRange

    public var description: String {
        let reason: String
        switch self {
        case .truncated(let field): reason = "payload ends inside \(field)"
        case .unknownOpcode(let opcode): reason = "unknown opcode \(hex(opcode))"
        case .unknownSubTag(let tag): reason = "unknown 0x05 sub-tag \(hex(tag))"
        case .unsupportedVersion(let version): reason = "unsupported body version \(hex(version))"
        case .unknownPurpose(let purpose): reason = "unknown key purpose \(hex(purpose))"
        case .zeroKeyID(let field): reason = "\(field) is 0, which never names a key"
        case .zeroNodeID: reason = "a registration names full node id 0"
        case .countOutOfRange(let field, let count, let minimum, let maximum):
            reason = "\(field) is \(count), allowed \(minimum)...\(maximum)"
        case .wrappedDEKLength(let length):
            reason = "wrapped DEK is \(length) bytes, allowed 1...\(EntryLimits.maxWrappedDEKBytes)"
        case .createdOutOfRange(let seconds):
            reason = "creation time \(seconds) is after \(EntryLimits.maxCreatedUnixSeconds)"
        case .policyBoundOutOfRange(let field, let value, let maximum):
            reason = "\(field) is \(value), allowed 0...\(maximum)"
        case .reservedBits(let field, let value): reason = "\(field) \(hex(value)) sets reserved bits"
        case .timestampOutOfRange(let field, let ts): reason = "\(field) \(ts) is not below 2^63"
        case .emptyRewriteRange: reason = "a rewrite chunk's end does not come after its start"
        case .bootstrapKeysInvalid: reason = "bootstrap needs one storage and one raft key with distinct ids"
        case .rotationReplacesItself(let id): reason = "rotation replaces key \(id) with itself"
        case .duplicateKeyID(let id): reason = "key id \(id) appears twice"
        case .purposeNotAllowed(let field, let purpose): reason = "\(field) cannot be a \(purpose.rawValue) key"
        case .trailingBytes(let count): reason = "\(count) bytes after the last field"
        case .kekIDLength(let length): reason = "a kek id of \(length) bytes (1 to \(EntryLimits.maxKEKIDBytes))"
        case .kekIDNotUTF8: reason = "a kek id is not UTF-8"
        case .duplicateKEKID: reason = "a DEK names the same KEK twice"
        }
        return "malformed encryption entry: \(reason); the leader and this node disagree on docs/formats.md"
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
