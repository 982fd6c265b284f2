import RedisCommands
import RESP
import Synchronization

/// The pub/sub subscribers of this member: which connection listens to which channel, pattern or shard
/// channel, and each one's mailbox. Publishing delivers to the mailboxes without waiting (a slow subscriber
/// never holds up the publisher or the node; its mailbox closes it when too much waits, as Redis's
/// client-output-buffer limit does). Messages are never stored or logged. Thread-safe.
public final class PubSubHub: Sendable {
    struct Subscriber {
        let mailbox: PubSubMailbox
        var version: RESPValue.ProtocolVersion
    }

    struct State {
        var subscribers: [Int64: Subscriber] = [:]
        var listeners: [SubscriptionKind: [[UInt8]: Set<Int64>]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records `client`'s subscriptions as `subscriptions` holds them now (after SUBSCRIBE or UNSUBSCRIBE),
    /// with the protocol its messages are encoded in; a client without subscriptions is forgotten.
    public func update(_ client: Int64, _ subscriptions: Subscriptions, mailbox: PubSubMailbox,
                       version: RESPValue.ProtocolVersion) {
        state.withLock { state in
            Self.forget(client, in: &state)
            guard subscriptions.count > 0 else { return }
            state.subscribers[client] = Subscriber(mailbox: mailbox, version: version)
            for kind in SubscriptionKind.allCases {
                for name in subscriptions[kind] { state.listeners[kind, default: [:]][name, default: []].insert(client) }
            }
        }
    }

    /// What `client` is subscribed to (ACL changes check these).
    public func subscriptions(of client: Int64) -> [(kind: SubscriptionKind, name: [UInt8])] {
        state.withLock { state in
            guard state.subscribers[client] != nil else { return [] }
            return state.listeners.flatMap { kind, names in
                names.filter { $0.value.contains(client) }.map { (kind, $0.key) }
            }
        }
    }

    /// Forgets a client that went away.
    public func remove(_ client: Int64) {
        state.withLock { Self.forget(client, in: &$0) }
    }

    private static func forget(_ client: Int64, in state: inout State) {
        guard state.subscribers.removeValue(forKey: client) != nil else { return }
        for kind in SubscriptionKind.allCases {
            guard var names = state.listeners[kind] else { continue }
            for (name, clients) in names where clients.contains(client) {
                var remaining = clients
                remaining.remove(client)
                names[name] = remaining.isEmpty ? nil : remaining
            }
            state.listeners[kind] = names
        }
    }

    /// Delivers a message to this member's subscribers: SUBSCRIBE's and every matching PSUBSCRIBE's, or
    /// SSUBSCRIBE's for SPUBLISH. Answers how many deliveries were made (a client subscribed both to the
    /// channel and to a matching pattern receives it twice, as in Redis).
    public func deliver(channel: [UInt8], message: [UInt8], sharded: Bool) -> Int {
        let targets: [(PubSubMailbox, [UInt8])] = state.withLock { state in
            var targets: [(PubSubMailbox, [UInt8])] = []
            func post(_ clients: Set<Int64>, _ kind: SubscriptionKind, pattern: [UInt8]?) {
                for client in clients.sorted() {
                    guard let subscriber = state.subscribers[client] else { continue }
                    targets.append((subscriber.mailbox, PubSubMessage.encode(kind, pattern: pattern, channel: channel,
                                                                             message: message,
                                                                             version: subscriber.version)))
                }
            }
            if sharded {
                post(state.listeners[.shard]?[channel] ?? [], .shard, pattern: nil)
                return targets
            }
            post(state.listeners[.channel]?[channel] ?? [], .channel, pattern: nil)
            for (pattern, clients) in state.listeners[.pattern] ?? [:] where GlobPattern.matches(pattern, channel) {
                post(clients, .pattern, pattern: pattern)
            }
            return targets
        }
        for (mailbox, bytes) in targets { mailbox.post(bytes) }
        return targets.count
    }

    /// What PUBSUB asks of this member: the active channels (or shard channels) matching `pattern` (all
    /// without one), the subscriber counts of `channels`, and every pattern subscribed to.
    public func status(sharded: Bool, pattern: [UInt8]?, channels: [[UInt8]]) -> PubSubStatus {
        state.withLock { state in
            let listeners = state.listeners[sharded ? .shard : .channel] ?? [:]
            let active = listeners.keys.filter { pattern == nil || GlobPattern.matches(pattern!, $0) }
            return PubSubStatus(channels: Set(active), counts: channels.map { listeners[$0]?.count ?? 0 },
                                patterns: Set((state.listeners[.pattern] ?? [:]).keys))
        }
    }
}

/// One member's answer to PUBSUB, combined over the cluster by ``merged(_:)``.
public struct PubSubStatus: Hashable, Sendable {
    public var channels: Set<[UInt8]>
    public var counts: [Int]
    public var patterns: Set<[UInt8]>

    public init(channels: Set<[UInt8]>, counts: [Int], patterns: Set<[UInt8]>) {
        self.channels = channels
        self.counts = counts
        self.patterns = patterns
    }

    /// The cluster's view: channels and patterns of any member, counts added up.
    public static func merged(_ answers: [PubSubStatus], channelCount: Int) -> PubSubStatus {
        var merged = PubSubStatus(channels: [], counts: Array(repeating: 0, count: channelCount), patterns: [])
        for answer in answers {
            merged.channels.formUnion(answer.channels)
            merged.patterns.formUnion(answer.patterns)
            for (index, count) in answer.counts.enumerated() where index < channelCount { merged.counts[index] += count }
        }
        return merged
    }
}

/// What waits to be written to one subscribed connection: replies and messages, in order, with Redis's
/// pub/sub output limits (32 MiB at once, or 8 MiB for 60 seconds); past them the connection is closed
/// (`onOverflow`) and what waited is dropped. Thread-safe.
public final class PubSubMailbox: Sendable {
    public static let hardLimitBytes = 32 << 20
    public static let softLimitBytes = 8 << 20
    public static let softLimitDuration: Duration = .seconds(60)

    struct State {
        var queue: [[UInt8]] = []
        var head = 0
        var bytes = 0
        var overSoftLimitSince: ContinuousClock.Instant?
        var waiter: CheckedContinuation<[UInt8]?, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    private let onOverflow: @Sendable () -> Void

    public init(onOverflow: @escaping @Sendable () -> Void) {
        self.onOverflow = onOverflow
    }

    /// Queues bytes for the connection; closes it instead when the limits are passed.
    public func post(_ bytes: [UInt8]) {
        enum Outcome { case handed(CheckedContinuation<[UInt8]?, Never>), queued, overflow, closed }
        let outcome: Outcome = state.withLock { state in
            guard !state.closed else { return .closed }
            if let waiter = state.waiter {
                state.waiter = nil
                return .handed(waiter)
            }
            state.queue.append(bytes)
            state.bytes += bytes.count
            let now = ContinuousClock.now
            if state.bytes > Self.softLimitBytes {
                if state.overSoftLimitSince == nil { state.overSoftLimitSince = now }
            } else {
                state.overSoftLimitSince = nil
            }
            let soft = state.overSoftLimitSince.map { now - $0 >= Self.softLimitDuration } ?? false
            guard state.bytes > Self.hardLimitBytes || soft else { return .queued }
            state.closed = true
            state.queue = []
            state.head = 0
            state.bytes = 0
            return .overflow
        }
        switch outcome {
        case .handed(let waiter): waiter.resume(returning: bytes)
        case .overflow: onOverflow()
        case .queued, .closed: break
        }
    }

    /// The next bytes to write; `nil` once closed.
    public func next() async -> [UInt8]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
            let ready: [UInt8]?? = state.withLock { state in
                if state.head < state.queue.count {
                    let bytes = state.queue[state.head]
                    state.head += 1
                    state.bytes -= bytes.count
                    if state.head == state.queue.count {
                        state.queue = []
                        state.head = 0
                    }
                    if state.bytes <= Self.softLimitBytes { state.overSoftLimitSince = nil }
                    return .some(bytes)
                }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Bytes waiting to be written.
    public var waitingBytes: Int { state.withLock { $0.bytes } }

    /// Ends the mailbox: a waiting ``next()`` returns nil, later posts are dropped.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, Never>? in
            state.closed = true
            state.queue = []
            state.head = 0
            state.bytes = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
