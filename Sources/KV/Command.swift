/// A state-changing Redis command, as proposed through Raft.
///
/// Relative times (EX, PX, EXPIRE …) are turned into absolute Unix milliseconds by the proposer, which also
/// stamps the entry with its clock reading, so that apply never reads a clock and every replica computes the
/// same result.
public enum Command: Hashable, Sendable {
    /// `SET` and its variants (SETNX, SETEX, PSETEX, GETSET).
    case set(key: [UInt8], value: [UInt8], condition: SetCondition, expiry: Expiry, returnOld: Bool)
    /// `MSET` (`onlyIfNoneExist == false`) and `MSETNX`.
    case multiSet(pairs: [KeyValue], onlyIfNoneExist: Bool)
    /// `DEL` / `UNLINK`: answers how many of the keys existed.
    case delete(keys: [[UInt8]])
    /// `INCR`, `INCRBY`, `DECR`, `DECRBY`.
    case incrementBy(key: [UInt8], delta: Int64)
    /// `INCRBYFLOAT`.
    case incrementByFloat(key: [UInt8], delta: Double)
    /// `APPEND`.
    case append(key: [UInt8], value: [UInt8])
    /// `SETRANGE`.
    case setRange(key: [UInt8], offset: UInt64, value: [UInt8])
    /// `FLUSHALL` / `FLUSHDB` (one database): deletes every live key; answers +OK.
    case flushAll
    /// `SETBIT`: answers the bit's previous value.
    case setBit(key: [UInt8], offset: UInt64, bit: Bool)
    /// `BITOP AND | OR | XOR | NOT destination source…`: answers the length of the result.
    case bitOperation(BitOperation, destination: [UInt8], sources: [[UInt8]])
    /// `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT` as an absolute deadline; a deadline in the past deletes.
    case expireAt(key: [UInt8], atMillis: UInt64)
    /// `EXPIRE` … with `NX`, `XX`, `GT` or `LT`: sets the deadline only when the condition holds (a key
    /// without a TTL counts as an infinite one); a deadline in the past deletes.
    case expireAtIf(key: [UInt8], atMillis: UInt64, condition: ExpireCondition)
    /// `PERSIST`.
    case persist(key: [UInt8])
    /// `RENAME` (`onlyIfAbsent == false`: +OK, replacing the destination) and `RENAMENX` (1, or 0 when the
    /// destination exists); the TTL moves with the value; a missing source is an error.
    case rename(from: [UInt8], to: [UInt8], onlyIfAbsent: Bool)
    /// `COPY source destination [REPLACE]`: 1 when copied (value and TTL), 0 when the source is missing or
    /// the destination exists without `replace`.
    case copy(from: [UInt8], to: [UInt8], replace: Bool)
    /// `GETDEL`.
    case getDelete(key: [UInt8])
    /// `GETEX` with an expiry change (`.keep` leaves the TTL as it is).
    case getExpire(key: [UInt8], expiry: Expiry)
    /// `HSET`: answers how many fields were added.
    case hashSet(key: [UInt8], fields: [KeyValue])
    /// `HDEL`: answers how many fields were removed.
    case hashDelete(key: [UInt8], fields: [[UInt8]])
    /// `HINCRBY`.
    case hashIncrementBy(key: [UInt8], field: [UInt8], delta: Int64)
    /// `HINCRBYFLOAT`: answers the new value as Redis formats it.
    case hashIncrementByFloat(key: [UInt8], field: [UInt8], delta: Double)
    /// `HSETNX`: 1 when the field was added, 0 when it exists.
    case hashSetIfAbsent(key: [UInt8], field: [UInt8], value: [UInt8])
    /// A list command (LPUSH … LMPOP).
    case list(ListCommand)
    /// A set command (SADD … SDIFFSTORE).
    case sets(SetCommand)
    /// A sorted-set command (ZADD … ZUNIONSTORE).
    case sortedSets(SortedSetCommand)
    /// A stream command (XADD, XDEL, XTRIM).
    case streams(StreamCommand)
    /// A consumer-group command (XGROUP, XREADGROUP, XACK).
    case streamGroups(StreamGroupCommand)
    /// `command` in database `database` (1…15; commands without this wrapper act on database 0).
    indirect case database(UInt8, Command)
    /// FLUSHDB: deletes every key of the command's database.
    case flushDatabase
    /// BITFIELD key with at least one SET or INCRBY: each operation's answer (null where FAIL refused).
    case bitField(key: [UInt8], operations: [BitField.Operation])
    /// PFADD key element…: 1 when a register changed (or the key was created), 0 otherwise.
    case hyperLogLogAdd(key: [UInt8], elements: [[UInt8]])
    /// PFMERGE destination source…: the destination becomes the union of itself and the sources.
    case hyperLogLogMerge(destination: [UInt8], sources: [[UInt8]])
    /// SWAPDB: exchanges the keys of two databases (every key's row is rewritten into the other one; element
    /// rows stay, as they belong to generations).
    case swapDatabases(UInt8, UInt8)
    /// MOVE key db: 1 when moved to `database` (which must not hold the key), 0 otherwise.
    case move(key: [UInt8], database: UInt8)
    /// COPY source destination DB db [REPLACE]: as ``copy(from:to:replace:)``, into `database`.
    case copyToDatabase(from: [UInt8], to: [UInt8], database: UInt8, replace: Bool)
    /// The expiry sweep (not a Redis command; the leader proposes it): looks at up to `limit` keys of every
    /// database from `from` (a database byte, then a key) on and deletes those expired at the entry's clock,
    /// element rows included. Answers where the next sweep starts, or null after the last key (the next one
    /// starts over).
    case sweepExpired(from: [UInt8], limit: UInt32)
    /// Records a member's name and gRPC address in the replicated member directory (internal state, not a
    /// Redis command). Proposed by the leader before the member joins the configuration.
    case registerMember(id: UInt64, name: [UInt8], address: [UInt8])

    /// The most keys one expiry sweep entry looks at.
    public static let maxSweepKeys: UInt32 = 10_000

    /// SETBIT and GETBIT offsets are below 2^32, as in Redis.
    public static let maxBitOffset: UInt64 = 1 << 32

    /// A key (or field) and its value.
    public struct KeyValue: Hashable, Sendable {
        public var key: [UInt8]
        public var value: [UInt8]
        public init(_ key: [UInt8], _ value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// When a `SET` takes effect.
    public enum SetCondition: UInt8, Hashable, Sendable {
        case always = 0
        /// `NX`: only when the key does not exist.
        case ifAbsent = 1
        /// `XX`: only when the key exists.
        case ifPresent = 2
    }

    /// The conditions of `EXPIRE … NX|XX|GT|LT`, as Redis combines them: `NX` alone, or `XX` with at most
    /// one of `GT` and `LT`, or `GT` or `LT` alone.
    public struct ExpireCondition: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Only when the key has no TTL.
        public static let noExpiry = ExpireCondition(rawValue: 1)
        /// Only when the key has a TTL.
        public static let hasExpiry = ExpireCondition(rawValue: 2)
        /// Only when the new deadline is later than the current one (never for a key without a TTL).
        public static let later = ExpireCondition(rawValue: 4)
        /// Only when the new deadline is earlier than the current one (always for a key without a TTL).
        public static let earlier = ExpireCondition(rawValue: 8)

        /// Whether Redis accepts this combination.
        public var isValid: Bool {
            guard rawValue != 0, rawValue & ~0x0F == 0 else { return false }
            if contains(.noExpiry) { return self == .noExpiry }
            return !(contains(.later) && contains(.earlier))
        }

        /// Whether a key whose deadline is `current` (0: none) takes the deadline `new`.
        public func admits(current: UInt64, new: UInt64) -> Bool {
            if contains(.noExpiry), current != 0 { return false }
            if contains(.hasExpiry), current == 0 { return false }
            if contains(.later), current == 0 || new <= current { return false }
            if contains(.earlier), current != 0 && new >= current { return false }
            return true
        }
    }

    /// The operations of `BITOP` (NOT takes exactly one source).
    public enum BitOperation: UInt8, Hashable, Sendable {
        case and = 1, or, xor, not
    }

    /// What a write does to the key's TTL.
    public enum Expiry: Hashable, Sendable {
        /// No TTL (for `GETEX`: `PERSIST`).
        case none
        /// Expire at this Unix time in milliseconds.
        case at(UInt64)
        /// `KEEPTTL`: leave the TTL as it is.
        case keep
    }

    /// Every key the command writes.
    public var keys: [[UInt8]] {
        switch self {
        case .set(let key, _, _, _, _), .incrementBy(let key, _), .incrementByFloat(let key, _),
             .append(let key, _), .setRange(let key, _, _), .expireAt(let key, _), .persist(let key),
             .getDelete(let key), .getExpire(let key, _), .hashSet(let key, _), .hashDelete(let key, _),
             .hashIncrementBy(let key, _, _), .expireAtIf(let key, _, _), .hashIncrementByFloat(let key, _, _),
             .hashSetIfAbsent(let key, _, _), .setBit(let key, _, _):
            return [key]
        case .bitOperation(_, let destination, let sources): return [destination] + sources
        case .rename(let from, let to, _), .copy(let from, let to, _): return [from, to]
        case .multiSet(let pairs, _): return pairs.map(\.key)
        case .list(let command): return command.keys
        case .sets(let command): return command.keys
        case .sortedSets(let command): return command.keys
        case .streams(let command): return command.keys
        case .streamGroups(let command): return command.keys
        case .delete(let keys): return keys
        case .registerMember, .flushAll, .sweepExpired, .flushDatabase, .swapDatabases: return []
        case .database(_, let command): return command.keys
        case .move(let key, _): return [key]
        case .hyperLogLogAdd(let key, _), .bitField(let key, _): return [key]
        case .hyperLogLogMerge(let destination, let sources): return [destination] + sources
        case .copyToDatabase(let from, let to, _, _): return [from, to]
        }
    }
}
