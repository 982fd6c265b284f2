import CoreMetrics
import Foundation
import Prometheus
import Synchronization

public typealias MetricCounter = Prometheus.Counter
public typealias MetricGauge = Prometheus.Gauge
public typealias MetricHistogram = Prometheus.ValueHistogram

/// The node's metrics: a swift-prometheus collector registry, rendered on `/metrics` in the Prometheus
/// text format, reachable through swift-metrics as well (`factory`, bootstrapped by `elastickv`).
///
/// Series are created on first use (a lock) and live for the process; updates are the library's atomics
/// (counters, gauges) or a short lock (histograms). Labels are passed sorted by name, so one label set is
/// one series whatever order a call site writes them in. A family is either unlabeled or labeled: never
/// both (swift-prometheus refuses the mix).
public final class MetricsRegistry: Sendable {
    /// Latency buckets from 50 µs to 10 s.
    public static let latencyBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]

    public let prometheus = PrometheusCollectorRegistry()
    /// Totals handed to `advanceCounter`, by series.
    private let published = Mutex<[String: UInt64]>([:])

    public init() {}

    /// A swift-metrics factory recording into this registry (so its series appear on `/metrics` too).
    public var factory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: prometheus)
        factory.defaultValueHistogramBuckets = Self.latencyBuckets
        return factory
    }

    /// Makes this registry the process's swift-metrics backend (once per process: `elastickv` does it at
    /// start-up, so libraries that record through swift-metrics appear on `/metrics`).
    public func bootstrapSwiftMetrics() { MetricsSystem.bootstrap(factory) }

    /// The counter `name{labels}`, created at 0 on first use.
    public func counter(_ name: String, help: String, labels: [String: String] = [:]) -> MetricCounter {
        prometheus.makeCounter(name: name, labels: Self.sorted(labels), help: help)
    }

    /// The gauge `name{labels}`, created at 0 on first use.
    public func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> MetricGauge {
        prometheus.makeGauge(name: name, labels: Self.sorted(labels), help: help)
    }

    /// The histogram `name{labels}` with upper bounds `buckets` (seconds for latencies).
    public func histogram(_ name: String, help: String, labels: [String: String] = [:],
                          buckets: [Double] = latencyBuckets) -> MetricHistogram {
        prometheus.makeValueHistogram(name: name, labels: Self.sorted(labels), buckets: buckets.sorted(), help: help)
    }

    /// Brings the counter `name{labels}` up to `total`, a running count kept elsewhere (a total that went
    /// down — its owner restarted — leaves the counter where it is, as counters never decrease).
    public func advanceCounter(_ name: String, help: String, labels: [String: String], to total: UInt64) {
        let counter = counter(name, help: help, labels: labels)
        let key = name + Self.sorted(labels).map { "\u{0}\($0.0)=\($0.1)" }.joined()
        let increase = published.withLock { published -> UInt64 in
            let before = published[key] ?? 0
            guard total > before else { return 0 }
            published[key] = total
            return total - before
        }
        if increase > 0 { counter.increment(by: Int64(clamping: increase)) }
    }

    /// Every series in the Prometheus text format.
    public func render() -> String { prometheus.emitToString() }

    /// The value of the series `name{labels}` (for a histogram, `name_count` / `name_sum`), read from the
    /// rendered text; nil when it does not exist. For tests and diagnostics, not for hot paths.
    public func sample(_ name: String, labels: [String: String] = [:]) -> Double? {
        let sortedLabels = Self.sorted(labels)
        let wanted = sortedLabels.isEmpty ? name
            : name + "{" + sortedLabels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
        for line in render().split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), line[..<space] == wanted else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }

    static func sorted(_ labels: [String: String]) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
