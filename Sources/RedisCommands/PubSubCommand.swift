import RESP

/// Which of Redis's three subscription spaces a pub/sub command acts on.
public enum SubscriptionKind: Hashable, Sendable, CaseIterable {
    /// SUBSCRIBE / PUBLISH.
    case channel
    /// PSUBSCRIBE: glob patterns over channel names.
    case pattern
    /// SSUBSCRIBE / SPUBLISH (shard channels; one shard here, so the same reach as channels).
    case shard

    /// The reply words Redis uses: the subscribe and unsubscribe confirmations and the message kind.
    var words: (subscribe: String, unsubscribe: String, message: String) {
        switch self {
        case .channel: return ("subscribe", "unsubscribe", "message")
        case .pattern: return ("psubscribe", "punsubscribe", "pmessage")
        case .shard: return ("ssubscribe", "sunsubscribe", "smessage")
        }
    }
}

/// SUBSCRIBE … PUBSUB: handled by the server with the connection's subscriptions and the cluster's
/// subscribers. Messages are delivered to subscribers on every member and never stored.
public enum PubSubCommand: Hashable, Sendable {
    case subscribe(SubscriptionKind, [[UInt8]])
    /// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE; no names: every subscription of that kind.
    case unsubscribe(SubscriptionKind, [[UInt8]])
    /// PUBLISH (`sharded == false`) and SPUBLISH: answers how many subscribers received the message.
    case publish(channel: [UInt8], message: [UInt8], sharded: Bool)
    /// PUBSUB CHANNELS / SHARDCHANNELS [pattern].
    case channels(pattern: [UInt8]?, sharded: Bool)
    /// PUBSUB NUMSUB / SHARDNUMSUB channel…
    case subscriberCounts([[UInt8]], sharded: Bool)
    /// PUBSUB NUMPAT.
    case patternCount
}

extension RedisCommandParser {
    static let pubSubSpecs: [String: Spec] = [
        "subscribe": Spec(arity: -2) { _, a, _ in .pubSub(.subscribe(.channel, Array(a))) },
        "psubscribe": Spec(arity: -2) { _, a, _ in .pubSub(.subscribe(.pattern, Array(a))) },
        "ssubscribe": Spec(arity: -2) { _, a, _ in .pubSub(.subscribe(.shard, Array(a))) },
        "unsubscribe": Spec(arity: -1) { _, a, _ in .pubSub(.unsubscribe(.channel, Array(a))) },
        "punsubscribe": Spec(arity: -1) { _, a, _ in .pubSub(.unsubscribe(.pattern, Array(a))) },
        "sunsubscribe": Spec(arity: -1) { _, a, _ in .pubSub(.unsubscribe(.shard, Array(a))) },
        "publish": Spec(arity: 3) { _, a, _ in
            .pubSub(.publish(channel: a[a.startIndex], message: a[a.startIndex + 1], sharded: false))
        },
        "spublish": Spec(arity: 3) { _, a, _ in
            .pubSub(.publish(channel: a[a.startIndex], message: a[a.startIndex + 1], sharded: true))
        },
        "pubsub": Spec(arity: -2) { _, a, _ in
            let subcommand = String(decoding: a[a.startIndex], as: UTF8.self)
            let rest = Array(a.dropFirst())
            switch subcommand.lowercased() {
            case "channels" where rest.count <= 1: return .pubSub(.channels(pattern: rest.first, sharded: false))
            case "shardchannels" where rest.count <= 1: return .pubSub(.channels(pattern: rest.first, sharded: true))
            case "numsub": return .pubSub(.subscriberCounts(rest, sharded: false))
            case "shardnumsub": return .pubSub(.subscriberCounts(rest, sharded: true))
            case "numpat" where rest.isEmpty: return .pubSub(.patternCount)
            case "help" where rest.isEmpty: return .reply(.array(pubSubHelp.map { .simpleString($0) }))
            case "channels", "shardchannels":
                return .reply(.error("ERR unknown subcommand or wrong number of arguments for '\(subcommand)'. "
                    + "Try PUBSUB HELP."))
            case "numpat", "help":
                return .reply(.error("ERR wrong number of arguments for 'pubsub|\(subcommand.lowercased())' command"))
            default:
                return .reply(.error("ERR unknown subcommand '\(subcommand)'. Try PUBSUB HELP."))
            }
        },
    ]

    static let pubSubHelp = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]

    /// Commands whose first argument is a subcommand: Redis names them `command|subcommand` in errors.
    public static let containerCommands: Set<String> = [
        "client", "config", "command", "object", "pubsub", "memory", "script", "function", "acl", "cluster",
        "latency", "slowlog", "xinfo", "xgroup", "module",
    ]

    /// The commands a RESP2 connection with subscriptions may send (Redis's subscribed mode).
    static let subscribedModeCommands: Set<String> = [
        "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "ping", "quit", "reset",
    ]
}

/// One connection's subscriptions.
public struct Subscriptions: Hashable, Sendable {
    public var channels: Set<[UInt8]> = []
    public var patterns: Set<[UInt8]> = []
    public var shardChannels: Set<[UInt8]> = []

    public init() {}

    /// How many subscriptions of every kind the connection holds (while any, a RESP2 connection is in
    /// subscribed mode).
    public var count: Int { channels.count + patterns.count + shardChannels.count }

    /// The count a confirmation of `kind` carries, as Redis 7.0 counts: channels and patterns together,
    /// shard channels apart.
    func confirmedCount(_ kind: SubscriptionKind) -> Int {
        kind == .shard ? shardChannels.count : channels.count + patterns.count
    }

    public subscript(kind: SubscriptionKind) -> Set<[UInt8]> {
        get {
            switch kind {
            case .channel: return channels
            case .pattern: return patterns
            case .shard: return shardChannels
            }
        }
        set {
            switch kind {
            case .channel: channels = newValue
            case .pattern: patterns = newValue
            case .shard: shardChannels = newValue
            }
        }
    }

    /// Applies SUBSCRIBE or UNSUBSCRIBE (of any kind) and answers Redis's confirmations, one per name (an
    /// UNSUBSCRIBE of nothing while none is held answers one with a null name); the names whose subscription
    /// began or ended.
    public mutating func apply(_ command: PubSubCommand) -> (reply: RESPValue, added: [[UInt8]], removed: [[UInt8]]) {
        var replies: [RESPValue] = []
        var added: [[UInt8]] = [], removed: [[UInt8]] = []
        switch command {
        case .subscribe(let kind, let names):
            for name in names {
                if self[kind].insert(name).inserted { added.append(name) }
                replies.append(.push([.bulk(kind.words.subscribe), .bulkString(name), .integer(Int64(confirmedCount(kind)))]))
            }
        case .unsubscribe(let kind, let names):
            let targets = names.isEmpty ? self[kind].sorted { $0.lexicographicallyPrecedes($1) } : names
            for name in targets {
                if self[kind].remove(name) != nil { removed.append(name) }
                replies.append(.push([.bulk(kind.words.unsubscribe), .bulkString(name), .integer(Int64(confirmedCount(kind)))]))
            }
            if targets.isEmpty {
                replies.append(.push([.bulk(kind.words.unsubscribe), .null, .integer(Int64(confirmedCount(kind)))]))
            }
        default:
            preconditionFailure("only SUBSCRIBE and UNSUBSCRIBE change subscriptions")
        }
        return (replies.count == 1 ? replies[0] : .sequence(replies), added, removed)
    }
}

/// How a published message reaches a subscriber, in the subscriber's protocol.
public enum PubSubMessage {
    /// `message channel payload` (or `smessage`), `pmessage pattern channel payload` for a pattern.
    public static func encode(_ kind: SubscriptionKind, pattern: [UInt8]?, channel: [UInt8], message: [UInt8],
                              version: RESPValue.ProtocolVersion) -> [UInt8] {
        var items: [RESPValue] = [.bulk(kind.words.message)]
        if let pattern { items.append(.bulkString(pattern)) }
        items += [.bulkString(channel), .bulkString(message)]
        return RESPValue.push(items).encoded(version)
    }
}
