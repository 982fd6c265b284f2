import KV
import RESP

/// MULTI, EXEC, DISCARD, WATCH and UNWATCH.
public enum TransactionCommand: Hashable, Sendable {
    case multi, exec, discard, unwatch
    case watch([[UInt8]])
}

/// A command queued between MULTI and EXEC.
public enum QueuedCommand: Hashable, Sendable {
    /// A read or write: it goes into the transaction entry as the arguments the client sent.
    case data([[UInt8]])
    /// Answered by the connection itself when EXEC runs, in its place among the replies.
    case connection(ConnectionCommand)
    /// A reply known when it was queued.
    case immediate(RESPValue)
    /// PUBLISH, SPUBLISH or PUBSUB: sent when EXEC runs, after the data commands applied, in its place.
    case pubSub(PubSubCommand)
}

extension TransactionState {
    /// The database of the last SELECT among `commands` that the transaction applied (its reply is +OK);
    /// the first `skipping` commands are the server's own and have no reply in `replies`.
    public static func lastSelect(in commands: [[[UInt8]]], replies: [RESPValue], skipping: Int) -> UInt8? {
        var selected: UInt8?
        for (arguments, reply) in zip(commands.dropFirst(skipping), replies)
            where reply == .ok && arguments.count == 2 && String(decoding: arguments[0], as: UTF8.self).lowercased() == "select" {
            selected = RedisNumber.parseInteger(arguments[1]).flatMap { UInt8(exactly: $0) }
        }
        return selected
    }
}

/// The connection's transaction: what MULTI queued and what WATCH recorded.
public struct TransactionState: Hashable, Sendable {
    /// The queue since MULTI; nil outside a transaction.
    public var queued: [QueuedCommand]?
    /// A command was refused while queueing: EXEC answers EXECABORT.
    public var refused = false
    public var watches: [TransactionEntry.Watch] = []

    public init() {}

    public var isOpen: Bool { queued != nil }

    /// What the server does with a request of a connection that is inside MULTI. Nil when the connection is
    /// not in a transaction or the request is a transaction command (the server handles those).
    public mutating func queue(_ request: RedisRequest, arguments: [[UInt8]]) -> RESPValue? {
        guard queued != nil else { return nil }
        if queued!.count >= TransactionEntry.Limits.maxCommands, !Self.endsQueueing(request) {
            refused = true
            return .error("ERR a transaction holds at most \(TransactionEntry.Limits.maxCommands) commands")
        }
        switch request {
        case .transaction(.multi), .transaction(.exec), .transaction(.discard), .transaction(.watch),
             .connection(.quit), .server(.reset):
            return nil
        case .transaction(.unwatch):
            queued!.append(.immediate(.ok))
        case .reply(.error(let message)) where Self.refusesTransaction(message):
            refused = true
            return .error(message)
        case .reply(.error):
            // An argument the command itself rejects (not an integer, syntax …) is queued, as in Redis: apply
            // parses it again and answers the same error in its place, and the other commands still run.
            queued!.append(.data(arguments))
        case .reply(let value):
            queued!.append(.immediate(value))
        case .write, .read, .blocking, .blockingRead, .connection(.select), .script:
            // SELECT goes into the entry too: the commands after it act on the database it names.
            queued!.append(.data(arguments))
        case .connection(let command):
            queued!.append(.connection(command))
        case .pubSub(.subscribe), .pubSub(.unsubscribe), .server, .acl:
            refused = true
            return .error("ERR Command not allowed inside a transaction")
        case .pubSub(let command):
            // Messages are not part of the replicated state: EXEC publishes once the entry applied.
            queued!.append(.pubSub(command))
        }
        return .simpleString("QUEUED")
    }

    /// MULTI.
    public mutating func begin() -> RESPValue {
        guard queued == nil else { return .error("ERR MULTI calls can not be nested") }
        queued = []
        refused = false
        return .ok
    }

    /// Ends the transaction (EXEC, DISCARD): the queue and every watch are dropped. Returns what was queued,
    /// whether a command was refused, and the watches.
    public mutating func finish() -> (queued: [QueuedCommand], refused: Bool, watches: [TransactionEntry.Watch])? {
        guard let queued else { return nil }
        defer { self = TransactionState() }
        return (queued, refused, watches)
    }

    /// The commands EXEC proposes, in order.
    public static func dataCommands(_ queued: [QueuedCommand]) -> [[[UInt8]]] {
        queued.compactMap { if case .data(let arguments) = $0 { arguments } else { nil } }
    }

    /// EXEC's reply: the entry's replies for the data commands, the others in their places.
    public static func merge(_ queued: [QueuedCommand], dataReplies: [RESPValue], pubSubReplies: [RESPValue] = [],
                             answer: (ConnectionCommand) -> RESPValue) -> RESPValue {
        var replies = dataReplies.makeIterator()
        var published = pubSubReplies.makeIterator()
        return .array(queued.map { item in
            switch item {
            case .data: return replies.next() ?? .error("ERR the transaction answered fewer replies than commands")
            case .connection(let command): return answer(command)
            case .immediate(let value): return value
            case .pubSub: return published.next() ?? .error("ERR the transaction answered fewer replies than commands")
            }
        })
    }

    static func endsQueueing(_ request: RedisRequest) -> Bool {
        switch request {
        case .transaction(.exec), .transaction(.discard), .connection(.quit): true
        default: false
        }
    }

    /// WATCH: records `watched`, refused beyond the entry's limit of watched keys.
    public mutating func watch(_ watched: [TransactionEntry.Watch]) -> RESPValue {
        guard watches.count + watched.count <= TransactionEntry.Limits.maxWatches else {
            return .error("ERR at most \(TransactionEntry.Limits.maxWatches) keys can be watched at once")
        }
        watches += watched
        return .ok
    }

    /// The errors Redis reports while queueing and that make EXEC answer EXECABORT: an unknown command or
    /// subcommand, a wrong number of arguments. Every other argument error is the command's own, at EXEC.
    static func refusesTransaction(_ message: String) -> Bool {
        ConnectionSession.isLookupOrArityError(message) || message.hasPrefix("ERR unknown subcommand")
    }

    public static let execAbort = RESPValue.error("EXECABORT Transaction discarded because of previous errors.")
}
