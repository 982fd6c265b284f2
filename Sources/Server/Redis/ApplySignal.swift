import Synchronization

/// Counts the batches of entries a node applied and lets blocked commands (BLPOP …) wait for the next one.
///
/// A waiter names the generation it last saw; it wakes as soon as the count passes it, when its deadline
/// passes, when its task is cancelled, or when the signal is closed (the Redis listener is shutting down).
public final class ApplySignal: Sendable {
    public enum Wake: Hashable, Sendable {
        case applied, deadline, closed
    }

    private struct State {
        var generation: UInt64 = 0
        var isClosed = false
        var nextWaiter: UInt64 = 0
        /// Waits in progress; a wake that arrives before its continuation is registered is kept here.
        var pending: [UInt64: Wake?] = [:]
        var waiters: [UInt64: CheckedContinuation<Wake, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The number of batches applied so far.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Records an applied batch and wakes every waiter.
    public func bump() {
        let woken = state.withLock { state -> [CheckedContinuation<Wake, Never>] in
            state.generation += 1
            return Self.takeAll(&state)
        }
        for continuation in woken { continuation.resume(returning: .applied) }
    }

    /// Wakes every waiter, now and from now on, with ``Wake/closed``.
    public func close() {
        let woken = state.withLock { state -> [CheckedContinuation<Wake, Never>] in
            state.isClosed = true
            return Self.takeAll(&state)
        }
        for continuation in woken { continuation.resume(returning: .closed) }
    }

    private static func takeAll(_ state: inout State) -> [CheckedContinuation<Wake, Never>] {
        let woken = Array(state.waiters.values)
        for id in state.waiters.keys { state.pending[id] = nil }
        state.waiters.removeAll()
        return woken
    }

    /// Waits until a batch after `generation` is applied, `deadline` passes (nil: no deadline), the task is
    /// cancelled or the signal is closed.
    public func wait(after generation: UInt64, until deadline: ContinuousClock.Instant?) async -> Wake {
        let id: UInt64? = state.withLock { state in
            guard !state.isClosed, state.generation <= generation else { return nil }
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.pending[id] = .some(nil)
            return id
        }
        guard let id else { return state.withLock { $0.isClosed } ? .closed : .applied }
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                if !Task.isCancelled { self?.wake(id, .deadline) }
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Wake, Never>) in
                let early: Wake? = state.withLock { state in
                    if let wake = state.pending[id] ?? nil {
                        state.pending[id] = nil
                        return wake
                    }
                    if state.isClosed {
                        state.pending[id] = nil
                        return .closed
                    }
                    if state.generation > generation {
                        state.pending[id] = nil
                        return .applied
                    }
                    state.waiters[id] = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            wake(id, .closed)
        }
    }

    /// Wakes one waiter (or records the wake when it has not registered yet).
    private func wake(_ id: UInt64, _ wake: Wake) {
        let continuation = state.withLock { state -> CheckedContinuation<Wake, Never>? in
            if let continuation = state.waiters.removeValue(forKey: id) {
                state.pending[id] = nil
                return continuation
            }
            if state.pending[id] != nil, state.pending[id]! == nil { state.pending[id] = .some(wake) }
            return nil
        }
        continuation?.resume(returning: wake)
    }
}
