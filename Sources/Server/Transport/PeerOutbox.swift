import Raft
import Synchronization

/// The bounded queue of messages waiting to go to one peer, with one consumer that waits for them.
///
/// `enqueue` never blocks: when the queue holds more than `capacity` messages or `capacityBytes` bytes
/// (payload and context; the newest message is always kept), the oldest message that is not a snapshot chunk is
/// dropped (Raft recovers lost messages by retrying, while a lost snapshot chunk stalls a transfer until
/// its retry timer fires), and the drop is reported to the caller. Closing wakes the consumer and every
/// `waitUntilClosed` caller; a closed outbox accepts nothing more.
final class PeerOutbox: Sendable {
    private struct State {
        var queue: [Message] = []
        var queuedBytes = 0
        var consumer: CheckedContinuation<[Message]?, Never>?
        var closeWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var isClosed = false

        /// Empties the queue once its messages were handed out or dropped.
        mutating func takeQueue() {
            queue.removeAll(keepingCapacity: true)
            queuedBytes = 0
        }
    }

    /// The peer's `host:port`.
    let address: String
    let capacity: Int
    let capacityBytes: Int
    private let state = Mutex(State())

    init(address: String, capacity: Int, capacityBytes: Int) {
        precondition(capacity > 0 && capacityBytes > 0, "an outbox needs room for at least one message")
        self.address = address
        self.capacity = capacity
        self.capacityBytes = capacityBytes
    }

    /// The bytes a message counts against `capacityBytes`.
    static func queuedBytes(of message: Message) -> Int {
        message.payloadBytes + message.context.count
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Queues `messages`; returns how many queued messages were dropped to make room (all of them when
    /// the outbox is closed).
    @discardableResult
    func enqueue(_ messages: [Message]) -> Int {
        guard !messages.isEmpty else { return 0 }
        let (dropped, wake) = state.withLock { state -> (Int, (CheckedContinuation<[Message]?, Never>, [Message])?) in
            guard !state.isClosed else { return (messages.count, nil) }
            var dropped = 0
            for message in messages {
                state.queue.append(message)
                state.queuedBytes += Self.queuedBytes(of: message)
                while state.queue.count > capacity || (state.queuedBytes > capacityBytes && state.queue.count > 1) {
                    let victim = state.queue.firstIndex { $0.kind != .snapshotChunk } ?? 0
                    state.queuedBytes -= Self.queuedBytes(of: state.queue.remove(at: victim))
                    dropped += 1
                }
            }
            guard let consumer = state.consumer else { return (dropped, nil) }
            state.consumer = nil
            defer { state.takeQueue() }
            return (dropped, (consumer, state.queue))
        }
        if let (consumer, batch) = wake { consumer.resume(returning: batch) }
        return dropped
    }

    /// Every queued message, waiting until there is one; `nil` once the outbox is closed or the task is
    /// cancelled.
    ///
    /// - Precondition: one consumer at a time.
    func next() async -> [Message]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Message]?, Never>) in
                let ready = state.withLock { state -> [Message]?? in
                    if state.isClosed || Task.isCancelled { return .some(nil) }
                    if !state.queue.isEmpty {
                        defer { state.takeQueue() }
                        return .some(state.queue)
                    }
                    precondition(state.consumer == nil, "two consumers wait on one peer outbox")
                    state.consumer = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let consumer = state.withLock { state in
                defer { state.consumer = nil }
                return state.consumer
            }
            consumer?.resume(returning: nil)
        }
    }

    /// Returns once the outbox is closed, or when the task is cancelled.
    func waitUntilClosed() async {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    if state.isClosed || Task.isCancelled { return true }
                    state.closeWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.closeWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Drops every queued message and wakes the consumer and the close waiters; returns how many
    /// messages were dropped.
    @discardableResult
    func close() -> Int {
        let (dropped, consumer, waiters) = state.withLock { state in
            guard !state.isClosed else {
                return (0, CheckedContinuation<[Message]?, Never>?.none, [CheckedContinuation<Void, Never>]())
            }
            state.isClosed = true
            defer {
                state.takeQueue()
                state.consumer = nil
                state.closeWaiters = [:]
            }
            return (state.queue.count, state.consumer, Array(state.closeWaiters.values))
        }
        consumer?.resume(returning: nil)
        for waiter in waiters { waiter.resume() }
        return dropped
    }
}
