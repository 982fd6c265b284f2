import Synchronization

/// Lets concurrent linearizable reads share one read barrier (one ReadIndex quorum round and one wait for
/// apply) instead of one each.
///
/// At most one round runs at a time. A round serves exactly the reads that were waiting when it started, so
/// its read index is confirmed after each of them arrived, which is what makes them linearizable; reads that
/// arrive during a round wait for the next one, which starts as soon as the running one ends. A lone read
/// starts its round at once, so it waits no longer than it would alone.
final class ReadBarrierBatcher: Sendable {
    private struct State {
        var waiting: [CheckedContinuation<Result<Void, BackendError>, Never>] = []
        var roundRunning = false
    }

    /// Rounds tried per batch of reads: a round that fails because leadership moved is run again (reads
    /// have no effect, so this is always safe), after ``retryPause``.
    static let maxAttempts = 3
    static let retryPause: Duration = .milliseconds(100)

    private let state = Mutex(State())
    private let barrier: @Sendable () async throws(BackendError) -> Void
    /// Reads per round, when metrics are on.
    private let roundSizes: MetricHistogram?

    /// - Parameter barrier: one read barrier; every read waiting when it starts is served by its outcome.
    init(metrics: MetricsRegistry? = nil, barrier: @escaping @Sendable () async throws(BackendError) -> Void) {
        self.barrier = barrier
        roundSizes = metrics?.histogram(
            "elastickv_read_barrier_reads", help: "Linearizable reads served by one read barrier",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024])
    }

    /// Returns once a read barrier that started after this call has passed.
    func wait() async throws(BackendError) {
        let result = await withCheckedContinuation { continuation in
            let startsRound = state.withLock { state -> Bool in
                state.waiting.append(continuation)
                guard !state.roundRunning else { return false }
                state.roundRunning = true
                return true
            }
            if startsRound { Task { await self.runRounds() } }
        }
        try result.get()
    }

    /// One barrier, run again while it fails because no leader is known or leadership moved.
    private func barrierRetryingLeadershipChanges() async -> Result<Void, BackendError> {
        var attempt = 1
        while true {
            do throws(BackendError) {
                try await barrier()
                return .success(())
            } catch {
                switch error {
                case .noLeader, .notLeader, .tryAgain: guard attempt < Self.maxAttempts else { return .failure(error) }
                default: return .failure(error)
                }
            }
            attempt += 1
            try? await Task.sleep(for: Self.retryPause)
        }
    }

    /// Runs rounds until no read is waiting.
    private func runRounds() async {
        while true {
            let round = state.withLock { state -> [CheckedContinuation<Result<Void, BackendError>, Never>]? in
                guard !state.waiting.isEmpty else {
                    state.roundRunning = false
                    return nil
                }
                defer { state.waiting = [] }
                return state.waiting
            }
            guard let round else { return }
            roundSizes?.record(Double(round.count))
            let outcome = await barrierRetryingLeadershipChanges()
            for read in round { read.resume(returning: outcome) }
        }
    }
}
