import Logging
@testable import Server
import Synchronization
import Testing

/// Repeated log lines of a persistent fault: the first, then one per interval, each saying how many were
/// suppressed before it; keys are independent.
@Suite struct LogThrottleTests {
    static let start = ContinuousClock.now

    @Test func theFirstLineOfAKeyIsLoggedThenOnePerInterval() {
        var state = LogThrottleState(interval: .seconds(10))
        #expect(state.admit("disk", at: Self.start) == 0)
        #expect(state.admit("disk", at: Self.start + .seconds(1)) == nil)
        #expect(state.admit("disk", at: Self.start + .seconds(9)) == nil)
        #expect(state.admit("other", at: Self.start + .seconds(9)) == 0, "keys are limited separately")
        #expect(state.admit("disk", at: Self.start + .seconds(10)) == 2, "the next line counts what was suppressed")
        #expect(state.admit("disk", at: Self.start + .seconds(25)) == 0)
    }

    @Test func theKeyTableStaysBounded() {
        var state = LogThrottleState(interval: .seconds(10))
        for index in 0..<(LogThrottleState.maxKeys * 3) {
            #expect(state.admit("k\(index)", at: Self.start + .seconds(index * 20)) == 0)
        }
        #expect(state.admit("k0", at: Self.start + .seconds(LogThrottleState.maxKeys * 60 + 1)) == 0)
    }

    final class Lines: Sendable {
        let lines = Mutex<[(String, Logger.Metadata)]>([])
    }

    /// Captures what reaches the logger.
    struct Capture: LogHandler {
        let sink: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.lines.withLock { $0.append(("\(event.message)", event.metadata ?? [:])) }
        }
    }

    @Test func suppressedLinesAreNamedOnTheNextOne() {
        let captured = Lines()
        let logger = Logger(label: "test") { _ in Capture(sink: captured) }
        let clock = Mutex(Self.start)
        let throttle = LogThrottle(interval: .seconds(10), now: { clock.withLock { $0 } })
        for second in 0..<25 {
            clock.withLock { $0 = Self.start + .seconds(second) }
            throttle.warning(logger, key: "gc", "garbage collection failed; will retry", metadata: ["try": "\(second)"])
        }
        let lines = captured.lines.withLock { $0 }
        #expect(lines.count == 3)
        #expect(lines.map(\.1["try"]) == ["0", "10", "20"])
        #expect(lines[0].1["suppressed_since_last"] == nil)
        #expect(lines[1].1["suppressed_since_last"] == "9")
        #expect(lines[2].1["suppressed_since_last"] == "9")
    }
}
