import Synchronization

/// Orders the retries of a listener's blocked commands (BLPOP …) so that the client that blocked first is
/// served first.
///
/// Every blocked command is woken by every applied batch; each then takes a turn, one at a time and in the
/// order the commands blocked (their tickets), to check whether one of its keys now holds a list and to try
/// its pop. A turn for a batch is granted to the smallest ticket that has not had one since that batch, so
/// an earlier client always tries before a later one takes what it wanted.
final class BlockedTurns: Sendable {
    private struct State {
        var nextTicket: UInt64 = 0
        /// Blocked tickets and the newest batch generation each has had its turn for.
        var blocked: [UInt64: UInt64] = [:]
        /// Tickets asking for a turn, with the generation they ask for.
        var asking: [UInt64: (generation: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
        /// The newest generation any ticket asked for.
        var round: UInt64 = 0
        var holder: UInt64?
    }

    private let state = Mutex(State())

    /// Registers a command that starts blocking; it has seen every batch up to `generation`.
    func block(seen generation: UInt64) -> UInt64 {
        state.withLock { state in
            let ticket = state.nextTicket
            state.nextTicket += 1
            state.blocked[ticket] = generation
            return ticket
        }
    }

    /// Removes a command that stops blocking (served, timed out, cancelled).
    func unblock(_ ticket: UInt64) {
        let granted = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.blocked[ticket] = nil
            if state.holder == ticket { state.holder = nil }
            return Self.grant(&state)
        }
        granted?.resume()
    }

    /// Waits for `ticket`'s turn for the batch `generation`; ``finish(_:generation:)`` ends the turn.
    func turn(_ ticket: UInt64, generation: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.asking[ticket] = (generation, continuation)
                state.round = max(state.round, generation)
                return Self.grant(&state)
            }
            granted?.resume()
        }
    }

    /// Ends `ticket`'s turn for `generation`.
    func finish(_ ticket: UInt64, generation: UInt64) {
        let granted = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.blocked[ticket] != nil { state.blocked[ticket] = max(state.blocked[ticket]!, generation) }
            if state.holder == ticket { state.holder = nil }
            return Self.grant(&state)
        }
        granted?.resume()
    }

    /// The continuation to resume when a turn can be granted now: to the smallest blocked ticket behind on
    /// the round, once it asks.
    private static func grant(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        guard state.holder == nil else { return nil }
        let behind = state.blocked.filter { $0.value < state.round }.keys
        // A ticket that asks while not blocked (never registered) goes when nobody blocked is behind.
        let next = behind.min() ?? state.asking.keys.min()
        guard let next, let asking = state.asking.removeValue(forKey: next) else { return nil }
        state.holder = next
        return asking.continuation
    }
}
