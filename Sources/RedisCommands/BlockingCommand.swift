import KV
import RESP

/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP: a write that is tried at once and, while it finds every
/// key empty, again whenever the node applies something that may have filled one, until the timeout.
///
/// Inside MULTI (or a script) it runs once, without blocking, as Redis does.
public struct BlockingCommand: Hashable, Sendable {
    /// How the attempt's answer becomes the reply.
    public enum Reply: Hashable, Sendable {
        /// BLPOP / BRPOP: the attempt is LMPOP with count 1; the reply is `[key, element]`.
        case keyAndElement
        /// BLMOVE, BRPOPLPUSH, BLMPOP: the attempt's answer as it is.
        case direct
    }

    /// The non-blocking write that serves the command (LMPOP, LMOVE).
    public var attempt: Command
    /// The keys whose pushes may let the attempt succeed.
    public var keys: [[UInt8]]
    /// How long to wait, in milliseconds; 0 waits for ever.
    public var timeoutMillis: UInt64
    public var reply: Reply

    public init(attempt: Command, keys: [[UInt8]], timeoutMillis: UInt64, reply: Reply) {
        self.attempt = attempt
        self.keys = keys
        self.timeoutMillis = timeoutMillis
        self.reply = reply
    }

    /// The attempt made after a wake-up, over the keys that now hold a list (in the command's order): a key
    /// that turned into another type while the client waited is skipped, as Redis serves a blocked client
    /// only from a key that received a push.
    public func retry(over ready: [[UInt8]]) -> Command {
        guard !ready.isEmpty else { return attempt }
        switch attempt {
        case .list(.multiPop(_, let left, let count)):
            return .list(.multiPop(keys: ready, left: left, count: count))
        case .sortedSets(.pop(_, let highest, let count, let form)):
            return .sortedSets(.pop(keys: ready, highest: highest, count: count, form: form))
        default:
            return attempt
        }
    }

    /// The type (as TYPE names it) a key must hold for the attempt to pop from it.
    public var awaitedType: String {
        switch attempt {
        case .sortedSets: return "zset"
        case .streamGroups: return "stream"
        default: return "list"
        }
    }

    /// What a blocked client receives when the timeout passes (or inside MULTI when every key is empty).
    public static let timedOut = RESPValue.nullArray

    /// The reply for the attempt's answer; `nil` when every key was empty (keep waiting).
    public func render(_ result: CommandResult) -> RESPValue? {
        switch result {
        case .null, .reply(.nullArray): return nil
        case .array(let items) where reply == .keyAndElement:
            // LMPOP's [key, [element]] becomes [key, element].
            guard items.count == 2, case .array(let popped) = items[1], let element = popped.first else {
                return ReplyShape.direct.render(result)
            }
            return .array([ReplyShape.direct.render(items[0]), ReplyShape.direct.render(element)])
        default:
            return ReplyShape.direct.render(result)
        }
    }
}

extension RedisCommandParser {
    static let blockingSpecs: [String: Spec] = [
        "blpop": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try blockingPop(a, left: true) },
        "brpop": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try blockingPop(a, left: false) },
        "brpoplpush": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let timeout = try timeoutMillis(a[a.startIndex + 2])
            let move = Command.list(.move(source: a[a.startIndex], destination: a[a.startIndex + 1], fromLeft: false,
                                          toLeft: true))
            return .blocking(BlockingCommand(attempt: move, keys: [a[a.startIndex]], timeoutMillis: timeout,
                                             reply: .direct))
        },
        "blmove": Spec(arity: 6) { _, a, _ throws(RedisArgumentError) in
            let fromLeft = try end(a[a.startIndex + 2]), toLeft = try end(a[a.startIndex + 3])
            let timeout = try timeoutMillis(a[a.startIndex + 4])
            let move = Command.list(.move(source: a[a.startIndex], destination: a[a.startIndex + 1],
                                          fromLeft: fromLeft, toLeft: toLeft))
            return .blocking(BlockingCommand(attempt: move, keys: [a[a.startIndex]], timeoutMillis: timeout,
                                             reply: .direct))
        },
        "blmpop": Spec(arity: -5) { _, a, _ throws(RedisArgumentError) in
            let timeout = try timeoutMillis(a[a.startIndex])
            let (keys, left, count) = try parseMultiPop(a.dropFirst())
            return .blocking(BlockingCommand(attempt: .list(.multiPop(keys: keys, left: left, count: count)),
                                             keys: keys, timeoutMillis: timeout, reply: .direct))
        },
    ]

    private static func blockingPop(_ a: ArraySlice<[UInt8]>, left: Bool) throws(RedisArgumentError) -> RedisRequest {
        let keys = Array(a.dropLast())
        let timeout = try timeoutMillis(a[a.endIndex - 1])
        return .blocking(BlockingCommand(attempt: .list(.multiPop(keys: keys, left: left, count: 1)), keys: keys,
                                         timeoutMillis: timeout, reply: .keyAndElement))
    }

    /// The most a timeout may be, in milliseconds (Redis refuses what would overflow its clock).
    static let maxTimeoutMillis = UInt64(Int64.max / 2)

    /// A blocking command's timeout: seconds as a decimal number, rounded up to whole milliseconds.
    static func timeoutMillis(_ bytes: [UInt8]) throws(RedisArgumentError) -> UInt64 {
        // Beyond a double's range (1e400) the number is still one, too large for a timeout.
        guard let seconds = RedisNumber.parseFloat(bytes) ?? Double(String(decoding: bytes, as: UTF8.self)),
              !seconds.isNaN else {
            throw .custom("ERR timeout is not a float or out of range")
        }
        guard seconds >= 0 else { throw .custom("ERR timeout is negative") }
        let millis = (seconds * 1000).rounded(.up)
        guard millis < Double(maxTimeoutMillis) else { throw .custom("ERR timeout is out of range") }
        return UInt64(millis)
    }
}
