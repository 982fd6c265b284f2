import NIOCore
import Synchronization

/// The Redis listener's open connections and whether each is executing a request, so that shutdown can
/// drain: stop accepting, close idle connections at once, let busy ones finish the request they are
/// executing and write its reply, then close them (see ``RedisServer/drain(within:)``).
///
/// `begin` and `startDrain` decide under one lock, so a request is either started before the drain (and
/// answered) or refused by it (never executed: the connection closes without a reply).
final class RedisConnections: Sendable {
    private struct State {
        var channels: [Int64: any Channel] = [:]
        var busy: Set<Int64> = []
        var listener: (any Channel)?
        var draining = false
    }

    private let state = Mutex(State())

    /// Records the accepting channel, closed when the drain starts. False when draining already began.
    func attach(listener: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.listener = listener
            return true
        }
    }

    /// Records an accepted connection. False when draining: the caller closes it unserved.
    func open(_ id: Int64, _ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.channels[id] = channel
            return true
        }
    }

    func closed(_ id: Int64) {
        state.withLock { state in
            state.channels[id] = nil
            state.busy.remove(id)
        }
    }

    /// Marks `id` as executing a request. False when draining: the request must not be executed.
    func begin(_ id: Int64) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.busy.insert(id)
            return true
        }
    }

    /// Marks `id` idle after its reply was written; true when draining (the caller closes the connection).
    func end(_ id: Int64) -> Bool {
        state.withLock { state in
            state.busy.remove(id)
            return state.draining
        }
    }

    /// Starts draining: returns the listener and every idle connection, to close now.
    func startDrain() -> [any Channel] {
        state.withLock { state in
            state.draining = true
            let idle = state.channels.filter { !state.busy.contains($0.key) }.map(\.value)
            let listener = state.listener.map { [$0] } ?? []
            state.listener = nil
            return listener + idle
        }
    }

    var busyCount: Int { state.withLock { $0.busy.count } }

    /// How many client connections are open.
    var openCount: Int { state.withLock { $0.channels.count } }

    /// Every connection still open (closed when the drain's time is up).
    var remaining: [any Channel] { state.withLock { Array($0.channels.values) } }
}
