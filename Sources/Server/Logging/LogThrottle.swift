import Logging
import Synchronization

/// Rate-limits log lines that a persistent fault would repeat (a failing disk retried every ready, a peer
/// address refused every refresh, a message dropped per send): the first line of each key is logged, then at
/// most one per `interval`; the line after a quiet spell says how many were suppressed.
///
/// The decision is a pure function of the key, the instant and the past (``LogThrottleState``); this
/// wrapper adds a lock, the monotonic clock and the logger.
public final class LogThrottle: Sendable {
    private let state: Mutex<LogThrottleState>
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(interval: Duration = .seconds(10),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        state = Mutex(LogThrottleState(interval: interval))
        self.now = now
    }

    /// Logs `message` at `level` under `key` unless a line of that key was logged less than `interval` ago.
    public func log(_ logger: Logger, _ level: Logger.Level, key: String, _ message: @autoclosure () -> Logger.Message,
                    metadata: @autoclosure () -> Logger.Metadata = [:]) {
        let instant = now()
        guard let suppressed = state.withLock({ $0.admit(key, at: instant) }) else { return }
        var metadata = metadata()
        if suppressed > 0 { metadata["suppressed_since_last"] = "\(suppressed)" }
        logger.log(level: level, message(), metadata: metadata)
    }

    public func warning(_ logger: Logger, key: String, _ message: @autoclosure () -> Logger.Message,
                        metadata: @autoclosure () -> Logger.Metadata = [:]) {
        log(logger, .warning, key: key, message(), metadata: metadata())
    }
}

/// The rate limiter's state: when each key last logged and how many of its lines were suppressed since.
public struct LogThrottleState: Sendable {
    public let interval: Duration
    private var keys: [String: (logged: ContinuousClock.Instant, suppressed: Int)] = [:]
    /// Keys are few (one per call site and peer); past this many, keys quiet for an interval are dropped.
    static let maxKeys = 1024

    public init(interval: Duration) { self.interval = interval }

    /// nil: suppress this line. Otherwise log it, mentioning the returned number of lines suppressed before it.
    public mutating func admit(_ key: String, at instant: ContinuousClock.Instant) -> Int? {
        if let entry = keys[key], instant - entry.logged < interval {
            keys[key]!.suppressed += 1
            return nil
        }
        let suppressed = keys[key]?.suppressed ?? 0
        if keys[key] == nil, keys.count >= Self.maxKeys {
            keys = keys.filter { instant - $0.value.logged < interval }
            if keys.count >= Self.maxKeys { keys.removeAll() }
        }
        keys[key] = (instant, 0)
        return suppressed
    }
}
