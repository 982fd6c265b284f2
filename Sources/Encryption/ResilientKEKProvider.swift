#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

import Synchronization

/// Puts a retry policy and a circuit breaker in front of a provider that calls a service (DESIGN §3.4).
///
/// A call that fails with a transient error (``KEKProviderError/unavailable(provider:reason:)``) is retried up
/// to ``Policy/attempts`` times in all, after a jittered, doubling pause. After ``Policy/openAfterFailures``
/// transient failures in a row the circuit opens: calls fail at once, without reaching the service, until
/// ``Policy/openFor`` has passed, when one call is let through as a probe (a success closes the circuit, a
/// failure opens it again). Other failures (refused, mismatch, misconfigured) pass through at once and do not
/// count: the service answered. The provider's own per-call deadline bounds each attempt.
///
/// A node that already holds its DEKs keeps serving reads and writes while a provider is down; only operations
/// that need a new wrap or unwrap wait for it, for at most the attempts and pauses below.
public final class ResilientKEKProvider: KEKProvider, KEKReloading {
    /// The retry and circuit-breaker limits.
    public struct Policy: Sendable {
        /// Calls per wrap or unwrap, the first included.
        public var attempts: Int
        /// The pause before the first retry; doubled before each next one.
        public var firstBackoff: Duration
        /// The longest pause between attempts.
        public var maxBackoff: Duration
        /// Transient failures in a row that open the circuit.
        public var openAfterFailures: Int
        /// How long an open circuit fails calls at once before it lets a probe through.
        public var openFor: Duration

        public init(attempts: Int = 3, firstBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(2),
                    openAfterFailures: Int = 5, openFor: Duration = .seconds(10))
        {
            precondition(attempts >= 1 && openAfterFailures >= 1, "a policy makes at least one attempt")
            self.attempts = attempts
            self.firstBackoff = firstBackoff
            self.maxBackoff = maxBackoff
            self.openAfterFailures = openAfterFailures
            self.openFor = openFor
        }
    }

    /// The clock and sleep the policy uses (a manual clock in tests).
    public struct Timing: Sendable {
        public let now: @Sendable () -> ContinuousClock.Instant
        public let sleep: @Sendable (Duration) -> Void
        public let jitter: @Sendable () -> Double

        public init(now: @escaping @Sendable () -> ContinuousClock.Instant,
                    sleep: @escaping @Sendable (Duration) -> Void, jitter: @escaping @Sendable () -> Double)
        {
            self.now = now
            self.sleep = sleep
            self.jitter = jitter
        }

        /// The monotonic clock, a blocking sleep and a uniform jitter in [0.5, 1).
        public static let system = Timing(
            now: { ContinuousClock.now },
            sleep: { duration in
                let parts = duration.components
                var request = timespec(tv_sec: Int(parts.seconds), tv_nsec: Int(parts.attoseconds / 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            },
            jitter: { Double.random(in: 0.5..<1) })
    }

    private struct State {
        var consecutiveFailures = 0
        var lastError: String?
        var openUntil: ContinuousClock.Instant?
        var called = false
    }

    /// The provider the calls go to.
    public let base: any KEKProvider
    /// The name used in errors and status (the kek id or URI without its query).
    public let name: String
    public let policy: Policy
    private let timing: Timing
    private let state = Mutex(State())

    public init(_ base: any KEKProvider, name: String, policy: Policy = Policy(), timing: Timing = .system) {
        self.base = base
        self.name = name
        self.policy = policy
        self.timing = timing
    }

    public var kekID: String? { base.kekID }

    public func reload() throws {
        try (base as? any KEKReloading)?.reload()
    }

    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try call { try base.wrap(key) }
    }

    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        try call { try base.unwrap(wrapped) }
    }

    /// Wraps a throwaway DEK: a working provider answers, a down one records the failure (an open circuit
    /// fails at once, and the first probe after its pause is the call that may close it).
    public func probe() {
        _ = try? wrap(DataEncryptionKey.generate())
    }

    public func providerHealth() -> [KEKProviderHealth] {
        let now = timing.now()
        return [state.withLock { state in
            let status: KEKProviderHealth.State
            if let until = state.openUntil, until > now {
                status = .circuitOpen
            } else if !state.called {
                status = .unknown
            } else {
                status = state.consecutiveFailures == 0 ? .up : .down
            }
            return KEKProviderHealth(kekID: name, scheme: "", primary: false, state: status,
                                     consecutiveFailures: state.consecutiveFailures, lastError: state.lastError)
        }]
    }

    private func call<Result>(_ body: () throws -> Result) throws -> Result {
        var backoff = policy.firstBackoff
        var attempt = 1
        while true {
            if let rejection = admit() { throw rejection }
            do {
                let result = try body()
                state.withLock { state in
                    state = State(called: true)
                }
                return result
            } catch {
                guard KEKRing.isTransient(error) else {
                    state.withLock { state in
                        state.called = true
                        state.lastError = "\(error)"
                    }
                    throw error
                }
                recordTransientFailure(error)
                guard attempt < policy.attempts else { throw error }
            }
            attempt += 1
            timing.sleep(backoff * timing.jitter())
            backoff = min(backoff * 2, policy.maxBackoff)
        }
    }

    /// Nil when a call may go out; the error to fail with while the circuit is open.
    private func admit() -> KEKProviderError? {
        let now = timing.now()
        return state.withLock { state -> KEKProviderError? in
            guard let until = state.openUntil else { return nil }
            if now >= until {
                state.openUntil = nil  // half-open: this call is the probe; a failure opens the circuit again
                state.consecutiveFailures = max(state.consecutiveFailures, policy.openAfterFailures - 1)
                return nil
            }
            return .unavailable(provider: name, reason: "circuit open after \(state.consecutiveFailures) failures "
                + "in a row; the next call is tried after the pause (last: \(state.lastError ?? "unknown"))")
        }
    }

    private func recordTransientFailure(_ error: any Error) {
        let now = timing.now()
        state.withLock { state in
            state.called = true
            state.consecutiveFailures += 1
            state.lastError = "\(error)"
            if state.consecutiveFailures >= policy.openAfterFailures { state.openUntil = now + policy.openFor }
        }
    }
}
