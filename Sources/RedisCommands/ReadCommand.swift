import KV
import RESP

/// A read-only Redis command, evaluated against the store by ``ReadEvaluator``.
public enum ReadCommand: Hashable, Sendable {
    /// `command` in database `database` (1…15; read commands without this wrapper read database 0).
    indirect case inDatabase(UInt8, ReadCommand)
    /// SCRIPT EXISTS, FUNCTION LIST / DUMP / STATS, and the read-only script calls (EVAL_RO …).
    case script(ScriptCommand)
    case get([UInt8])
    case multiGet([[UInt8]])
    case stringLength([UInt8])
    case getRange([UInt8], start: Int64, end: Int64)
    /// GETBIT.
    case getBit([UInt8], offset: UInt64)
    /// BITCOUNT key [start end [BYTE | BIT]]; `refusal` is the error for bad range arguments, answered only
    /// when the key holds a string (Redis looks the key up first).
    case bitCount([UInt8], range: BitReads.Range?, refusal: String? = nil)
    /// BITPOS key bit [start [end [BYTE | BIT]]]; `refusal` as for BITCOUNT.
    case bitPosition([UInt8], bit: Bool, start: Int64?, end: Int64?, inBits: Bool, refusal: String? = nil)
    /// TTL (`milliseconds == false`) and PTTL.
    case timeToLive([UInt8], milliseconds: Bool)
    case type([UInt8])
    /// EXPIRETIME (`milliseconds == false`) and PEXPIRETIME: the absolute deadline.
    case expireTime([UInt8], milliseconds: Bool)
    case exists([[UInt8]])
    case keys(pattern: [UInt8])
    /// SCAN; `type` (lower case) keeps only keys of that type.
    case scan(cursor: UInt64, pattern: [UInt8]?, count: Int, type: String? = nil)
    /// RANDOMKEY.
    case randomKey
    /// OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ key.
    case object(ObjectSubcommand, [UInt8])
    case databaseSize
    /// INFO keyspace: [keys, keys with an expiry, their average remaining time to live in ms].
    case keyspaceSummary
    /// The ACL user rows: an array of [row, body] pairs, in name order.
    case aclUsers
    /// MEMORY USAGE key: an estimate of the bytes the key holds (null when it does not exist).
    case memoryUsage([UInt8])
    case hashGet([UInt8], field: [UInt8])
    case hashMultiGet([UInt8], fields: [[UInt8]])
    case hashGetAll([UInt8])
    case hashLength([UInt8])
    case hashExists([UInt8], field: [UInt8])
    /// HSTRLEN.
    case hashFieldLength([UInt8], field: [UInt8])
    /// HSCAN key cursor [MATCH pattern] [COUNT n] [NOVALUES]: a hash of at most 128 fields comes back at once
    /// with cursor 0 (as Redis does for such small hashes), a larger one in pages of `count` fields.
    case hashScan([UInt8], cursor: UInt64, pattern: [UInt8]?, count: Int, noValues: Bool)
    /// HRANDFIELD key [count [WITHVALUES]].
    case hashRandomField([UInt8], count: Int64?, withValues: Bool)
    case hashKeys([UInt8])
    case hashValues([UInt8])
    case listLength([UInt8])
    /// LRANGE key start stop.
    case listRange([UInt8], start: Int64, stop: Int64)
    case listIndex([UInt8], index: Int64)
    /// LPOS key element [RANK rank] [COUNT count] [MAXLEN len]: `count == nil` answers one position.
    case listPosition([UInt8], element: [UInt8], rank: Int64, count: Int64?, maxLength: Int64)
    /// LCS key1 key2 with its reply options; `refusal` is the error for bad options, answered only once both
    /// keys hold strings (Redis checks the keys first).
    case longestCommonSubsequence([UInt8], [UInt8], LongestCommonSubsequence.Reply, refusal: String? = nil)
    /// BITFIELD key with GET operations only, and BITFIELD_RO.
    case bitField([UInt8], [BitField.Operation])
    /// PFCOUNT key…: the estimated size of the union of the HyperLogLogs.
    case hyperLogLogCount([[UInt8]])
    /// SISMEMBER.
    case setIsMember([UInt8], member: [UInt8])
    /// SMISMEMBER.
    case setAreMembers([UInt8], members: [[UInt8]])
    /// SCARD.
    case setCardinality([UInt8])
    /// SMEMBERS.
    case setMembers([UInt8])
    /// SRANDMEMBER key [count].
    case setRandomMember([UInt8], count: Int64?)
    /// SINTER, SUNION, SDIFF.
    case setCombination(SetOperation, keys: [[UInt8]])
    /// SINTERCARD numkeys key… [LIMIT limit] (0: no limit).
    case setIntersectionCardinality(keys: [[UInt8]], limit: Int64)
    /// SSCAN key cursor [MATCH pattern] [COUNT count].
    case setScan([UInt8], cursor: UInt64, pattern: [UInt8]?, count: Int)
    /// ZSCORE.
    case sortedSetScore([UInt8], member: [UInt8])
    /// ZMSCORE.
    case sortedSetScores([UInt8], members: [[UInt8]])
    /// ZCARD.
    case sortedSetCardinality([UInt8])
    /// ZCOUNT (a score range) and ZLEXCOUNT (a lex range).
    case sortedSetCount([UInt8], SortedSetRange)
    /// ZRANK (`reverse == false`) and ZREVRANK.
    case sortedSetRank([UInt8], member: [UInt8], reverse: Bool)
    /// ZRANGE and its older forms (ZREVRANGE, ZRANGEBYSCORE …).
    case sortedSetRange([UInt8], SortedSetQuery, withScores: Bool)
    /// ZRANDMEMBER key [count [WITHSCORES]].
    case sortedSetRandomMember([UInt8], count: Int64?, withScores: Bool)
    /// ZUNION, ZINTER, ZDIFF.
    case sortedSetCombination(SortedSetOperation, keys: [[UInt8]], weights: [Double]?, aggregate: ScoreAggregate,
                              withScores: Bool)
    /// ZINTERCARD numkeys key… [LIMIT limit] (0: no limit).
    case sortedSetIntersectionCardinality(keys: [[UInt8]], limit: Int64)
    /// ZSCAN key cursor [MATCH pattern] [COUNT count].
    case sortedSetScan([UInt8], cursor: UInt64, pattern: [UInt8]?, count: Int)
    /// ZUNION … with options Redis refuses only once it has found every key to hold a set or a sorted set:
    /// WRONGTYPE when one holds another type, else `refusal`.
    case sortedSetRefusal(keys: [[UInt8]], refusal: String)
    /// XLEN.
    case streamLength([UInt8])
    /// XINFO STREAM / GROUPS / CONSUMERS of the stream at the key.
    case streamInfo([UInt8], StreamInfoCommand)
    /// XRANGE (`reverse == false`) and XREVRANGE over `start…end` inclusive; `count` -1: all, 0: a null array.
    case streamRange([UInt8], start: StreamID, end: StreamID, reverse: Bool, count: Int64)
    /// XREAD without BLOCK: the entries after each id (`$`: nothing yet); `count` 0: all.
    case streamRead(keys: [[UInt8]], after: [StreamReadID], count: Int)
    /// The ids a blocking XREAD reads after: `$` becomes the stream's last id (0-0 for a missing key).
    case streamResolve(keys: [[UInt8]], after: [StreamReadID])
    /// A command whose arguments Redis refuses only once the key is found to hold a stream: `missing` for a
    /// missing key, WRONGTYPE for another type, else `refusal` (XDEL with a bad id).
    case streamRefusal([UInt8], missing: RESPValue, refusal: String)
    /// XPENDING: the summary (no range) or the pending entries in a range.
    case streamPending([UInt8], group: [UInt8], range: StreamPendingRange?)
    /// A group command with arguments Redis refuses only after it checked, key by key, that each holds a
    /// stream with the group: WRONGTYPE, or the command's answer for a missing key or group, first; else
    /// `refusal`.
    case streamGroupRefusal(keys: [[UInt8]], group: [UInt8], missing: StreamGroupMissing, refusal: String)
}

/// What `OBJECT` reports about a key.
public enum ObjectSubcommand: String, Hashable, Sendable {
    case encoding, refcount, idletime, freq
}
