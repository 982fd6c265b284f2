import KV
import RESP

/// Turns a client request's arguments into a ``RedisRequest``, with Redis's argument checks and error texts.
///
/// Pure: the caller passes its clock reading, used to turn relative expiries (EX, PX, EXPIRE …) into the
/// absolute deadlines the log carries.
public struct RedisCommandParser: Sendable {
    /// The largest value a write may carry; larger ones are refused with a clean error.
    public var maxValueBytes: Int

    public init(maxValueBytes: Int = 64 << 20) {
        self.maxValueBytes = maxValueBytes
    }

    typealias Handler = @Sendable (RedisCommandParser, ArraySlice<[UInt8]>, UInt64) throws(RedisArgumentError)
        -> RedisRequest

    struct Spec: Sendable {
        /// Redis arity: positive = exact argument count (name included), negative = at least that many.
        let arity: Int
        let handler: Handler
    }

    /// Parses one request.
    public func parse(_ arguments: [[UInt8]], nowMillis: UInt64) -> RedisRequest {
        guard let nameBytes = arguments.first else { return .reply(.error("ERR empty command")) }
        let name = String(decoding: nameBytes, as: UTF8.self).lowercased()
        guard let spec = Self.table[name] else { return .reply(.error(Self.unknownCommand(arguments))) }
        let count = arguments.count
        guard spec.arity >= 0 ? count == spec.arity : count >= -spec.arity else {
            return .reply(.error("ERR wrong number of arguments for '\(name)' command"))
        }
        do throws(RedisArgumentError) {
            let request = try spec.handler(self, arguments[1...], nowMillis)
            if let command = request.proposedCommand {
                if let oversized = Self.largestValue(command), oversized > maxValueBytes {
                    return .reply(.error(Self.stringTooLong))
                }
                // A write becomes one Raft entry, which every replica must decode: stay within its limits.
                if count - 1 > Self.maxWriteArguments { return .reply(.error(Self.tooManyArguments(name))) }
            }
            return request
        } catch {
            return .reply(.error(error.message(command: name)))
        }
    }

    /// Whether the command's arity (name included) admits `arguments`; true for an unknown name.
    public static func arityAccepts(_ arguments: [[UInt8]]) -> Bool {
        guard let name = arguments.first, let spec = table[String(decoding: name, as: UTF8.self).lowercased()] else { return true }
        return spec.arity >= 0 ? arguments.count == spec.arity : arguments.count >= -spec.arity
    }

    /// The most arguments a write takes (keys, fields, values), so that its entry stays within
    /// ``CommandEntry/Limits/maxItemsPerCommand`` items.
    public static let maxWriteArguments = CommandEntry.Limits.maxItemsPerCommand

    public static func tooManyArguments(_ name: String) -> String {
        "ERR too many arguments for '\(name)': a write takes at most \(maxWriteArguments) (split it into several)"
    }

    /// The names of every supported command, sorted, for `COMMAND COUNT` and friends (computed once: the
    /// metrics look a name up on every request).
    public static let commandNames: [String] = table.keys.sorted()
    /// The same names as a set, for membership tests.
    public static let commandNameSet: Set<String> = Set(table.keys)

    /// Redis's answer to a value above the size limit (its `proto-max-bulk-len`; ours is `--max-value-bytes`).
    public static let stringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

    /// Redis 7's text: the name (at most 128 bytes), then each argument quoted and followed by a space while
    /// the list is under 128 bytes (an argument is cut to what fits); CR and LF become spaces.
    static func unknownCommand(_ arguments: [[UInt8]]) -> String {
        var shown: [UInt8] = []
        for argument in arguments.dropFirst() where shown.count < 128 {
            shown += Array("'".utf8) + argument.prefix(128 - shown.count) + Array("' ".utf8)
        }
        let line = Array("ERR unknown command '".utf8) + arguments[0].prefix(128)
            + Array("', with args beginning with: ".utf8) + shown
        return String(decoding: line.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }

    static func largestValue(_ command: Command) -> Int? {
        switch command {
        case .set(_, let value, _, _, _), .append(_, let value), .setRange(_, _, let value): return value.count
        case .multiSet(let pairs, _), .hashSet(_, let pairs): return pairs.map(\.value.count).max()
        case .hashSetIfAbsent(_, _, let value): return value.count
        case .list(let command): return command.largestElement
        case .sets(let command): return command.largestElement
        case .sortedSets(let command): return command.largestElement
        case .streams(let command): return command.largestElement
        case .database(_, let command): return largestValue(command)
        default: return nil
        }
    }

    /// The group COMMAND DOCS reports for a command, as Redis names them.
    static func group(of name: String) -> String {
        if ["multi", "exec", "discard", "watch", "unwatch"].contains(name) { return "transactions" }
        if ["time", "config", "info", "flushall", "flushdb", "dbsize", "swapdb"].contains(name) || serverSpecs[name] != nil {
            return name == "reset" ? "connection" : "server"
        }
        if ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"].contains(name) { return "bitmap" }
        if ["pfadd", "pfcount", "pfmerge"].contains(name) { return "hyperloglog" }
        if connectionSpecs[name] != nil { return "connection" }
        if stringSpecs[name] != nil { return "string" }
        if hashSpecs[name] != nil { return "hash" }
        if listSpecs[name] != nil || blockingSpecs[name] != nil { return "list" }
        if setSpecs[name] != nil { return "set" }
        if sortedSetSpecs[name] != nil { return "sorted-set" }
        if pubSubSpecs[name] != nil { return "pubsub" }
        if scriptSpecs[name] != nil { return "scripting" }
        if streamSpecs[name] != nil || streamGroupSpecs[name] != nil { return "stream" }
        return "generic"
    }

    static let table: [String: Spec] = {
        var table: [String: Spec] = [:]
        for (name, spec) in connectionSpecs { table[name] = spec }
        for (name, spec) in stringSpecs { table[name] = spec }
        for (name, spec) in keySpecs { table[name] = spec }
        for (name, spec) in hashSpecs { table[name] = spec }
        for (name, spec) in listSpecs { table[name] = spec }
        for (name, spec) in blockingSpecs { table[name] = spec }
        for (name, spec) in setSpecs { table[name] = spec }
        for (name, spec) in sortedSetSpecs { table[name] = spec }
        for (name, spec) in pubSubSpecs { table[name] = spec }
        for (name, spec) in streamSpecs { table[name] = spec }
        for (name, spec) in streamGroupSpecs { table[name] = spec }
        for (name, spec) in scriptSpecs { table[name] = spec }
        for (name, spec) in bitFieldSpecs { table[name] = spec }
        for (name, spec) in serverSpecs { table[name] = spec }
        for (name, spec) in aclSpecs { table[name] = spec }
        return table
    }()
}

/// A refused argument; rendered with Redis's wording.
enum RedisArgumentError: Error, Hashable {
    case syntax
    case notAnInteger
    case notAFloat
    case invalidExpire
    case offsetOutOfRange
    case invalidCursor
    case wrongArity
    case custom(String)

    func message(command: String) -> String {
        switch self {
        case .syntax: return "ERR syntax error"
        case .notAnInteger: return "ERR value is not an integer or out of range"
        case .notAFloat: return "ERR value is not a valid float"
        case .invalidExpire: return "ERR invalid expire time in '\(command)' command"
        case .offsetOutOfRange: return "ERR offset is out of range"
        case .invalidCursor: return "ERR invalid cursor"
        case .wrongArity: return "ERR wrong number of arguments for '\(command)' command"
        case .custom(let text): return text
        }
    }
}

extension RedisCommandParser {
    static func integer(_ bytes: [UInt8]) throws(RedisArgumentError) -> Int64 {
        guard let value = RedisNumber.parseInteger(bytes) else { throw .notAnInteger }
        return value
    }

    static func float(_ bytes: [UInt8]) throws(RedisArgumentError) -> Double {
        guard let value = RedisNumber.parseFloat(bytes) else { throw .notAFloat }
        return value
    }

    static func keyword(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).uppercased()
    }

    /// An absolute deadline from a relative amount; refuses non-positive amounts and overflow.
    static func deadline(_ amount: Int64, unitMillis: Int64, now: UInt64, allowNonPositive: Bool = false)
        throws(RedisArgumentError) -> UInt64
    {
        guard allowNonPositive || amount > 0 else { throw .invalidExpire }
        let (millis, overflowA) = amount.multipliedReportingOverflow(by: unitMillis)
        let (sum, overflowB) = millis.addingReportingOverflow(Int64(clamping: now))
        guard !overflowA, !overflowB else { throw .invalidExpire }
        return UInt64(max(sum, 0))
    }

    /// An absolute deadline given in seconds or milliseconds since the epoch.
    static func absolute(_ amount: Int64, unitMillis: Int64, allowNonPositive: Bool = false)
        throws(RedisArgumentError) -> UInt64
    {
        guard allowNonPositive || amount > 0 else { throw .invalidExpire }
        let (millis, overflow) = amount.multipliedReportingOverflow(by: unitMillis)
        guard !overflow else { throw .invalidExpire }
        return UInt64(max(millis, 0))
    }
}
