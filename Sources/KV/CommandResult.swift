import RESP

/// What a command answers, in Redis terms; the Redis adapter renders it as RESP.
public enum CommandResult: Hashable, Sendable {
    case ok
    case null
    case integer(Int64)
    case bulk([UInt8])
    case array([CommandResult])
    case error(CommandError)
    /// A reply built by the Redis layer during apply (a transaction's replies).
    case reply(RESPValue)
}

/// A command refused by Redis semantics (the entry still applies; nothing changes).
///
/// The declaration order is the wire code of ``CommandResultCodec``: add new errors at the end.
public enum CommandError: Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case wrongType
    case notAnInteger
    case hashValueNotAnInteger
    case notAFloat
    case overflow
    case nanOrInfinity
    case stringTooLong
    /// RENAME / RENAMENX of a missing key.
    case noSuchKey
    /// HINCRBYFLOAT on a field that does not hold a float.
    case hashValueNotAFloat
    /// LSET beyond the list.
    case indexOutOfRange
    /// MOVE (or COPY … DB) onto the same key of the same database.
    case sameObject
    /// PF* on a string that is not a HyperLogLog.
    case notAHyperLogLog
    /// ZADD INCR or ZINCRBY whose sum is NaN (inf + -inf).
    case scoreNotANumber
    /// XADD at or below the stream's last id.
    case streamIDTooSmall
    /// XADD `*` after the largest possible id.
    case streamExhausted
    /// XADD `ms-*` when `ms`'s sequence is used up (Redis 7.0's answer).
    case streamSequenceExhausted

    /// The exact error line Redis answers with.
    public var redisMessage: String {
        switch self {
        case .wrongType: return "WRONGTYPE Operation against a key holding the wrong kind of value"
        case .notAnInteger: return "ERR value is not an integer or out of range"
        case .hashValueNotAnInteger: return "ERR hash value is not an integer"
        case .notAFloat: return "ERR value is not a valid float"
        case .overflow: return "ERR increment or decrement would overflow"
        case .nanOrInfinity: return "ERR increment would produce NaN or Infinity"
        case .stringTooLong: return "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
        case .noSuchKey: return "ERR no such key"
        case .hashValueNotAFloat: return "ERR hash value is not a float"
        case .indexOutOfRange: return "ERR index out of range"
        case .sameObject: return "ERR source and destination objects are the same"
        case .notAHyperLogLog: return HyperLogLog.notAHyperLogLog
        case .scoreNotANumber: return "ERR resulting score is not a number (NaN)"
        case .streamIDTooSmall: return "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        case .streamExhausted: return "ERR The stream has exhausted the last possible ID, unable to add more items"
        case .streamSequenceExhausted: return "ERR Elements are too large to be stored"
        }
    }

    public var description: String { redisMessage }
}
