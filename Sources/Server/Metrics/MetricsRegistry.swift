import Foundation
import Synchronization

/// Counters, gauges and histograms rendered in the Prometheus text exposition format.
///
/// Series are created on first use and live for the process; updates are lock-free atomics, creation and
/// rendering take a lock.
public final class MetricsRegistry: Sendable {
    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    struct Family: Sendable {
        let kind: Kind
        let help: String
        var series: [String: Series] = [:]
    }

    enum Series: Sendable {
        case counter(Counter)
        case gauge(Gauge)
        case histogram(Histogram)
    }

    private let families = Mutex<[String: Family]>([:])

    public init() {}

    /// The counter `name{labels}`, created at 0 on first use.
    public func counter(_ name: String, help: String, labels: [String: String] = [:]) -> Counter {
        series(name, .counter, help, labels) { .counter(Counter()) }.counter!
    }

    /// The gauge `name{labels}`, created at 0 on first use.
    public func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> Gauge {
        series(name, .gauge, help, labels) { .gauge(Gauge()) }.gauge!
    }

    /// The histogram `name{labels}` with upper bounds `buckets` (seconds for latencies).
    public func histogram(_ name: String, help: String, labels: [String: String] = [:],
                          buckets: [Double] = Histogram.latencyBuckets) -> Histogram {
        series(name, .histogram, help, labels) { .histogram(Histogram(buckets: buckets)) }.histogram!
    }

    private func series(_ name: String, _ kind: Kind, _ help: String, _ labels: [String: String],
                        make: () -> Series) -> Series {
        let key = Self.labelText(labels)
        return families.withLock { families in
            var family = families[name] ?? Family(kind: kind, help: help)
            precondition(family.kind == kind, "metric \(name) is registered as a \(family.kind.rawValue)")
            if let existing = family.series[key] { return existing }
            let created = make()
            family.series[key] = created
            families[name] = family
            return created
        }
    }

    /// Every series in the Prometheus text format, families sorted by name.
    public func render() -> String {
        let snapshot = families.withLock { $0 }
        var output = ""
        for name in snapshot.keys.sorted() {
            let family = snapshot[name]!
            output += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
            for labels in family.series.keys.sorted() {
                switch family.series[labels]! {
                case .counter(let counter): output += "\(name)\(labels) \(counter.value)\n"
                case .gauge(let gauge): output += "\(name)\(labels) \(Self.format(gauge.value))\n"
                case .histogram(let histogram): output += histogram.render(name: name, labels: labels)
                }
            }
        }
        return output
    }

    /// `{a="x",b="y"}` with keys sorted and values escaped; empty for no labels.
    static func labelText(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let pairs = labels.keys.sorted().map { key in
            let value = labels[key]!.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(value)\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension MetricsRegistry.Series {
    var counter: Counter? { if case .counter(let value) = self { value } else { nil } }
    var gauge: Gauge? { if case .gauge(let value) = self { value } else { nil } }
    var histogram: Histogram? { if case .histogram(let value) = self { value } else { nil } }
}

/// A monotonically increasing count.
public final class Counter: Sendable {
    private let count = Atomic<UInt64>(0)
    public func increment(by amount: UInt64 = 1) { count.add(amount, ordering: .relaxed) }
    public var value: UInt64 { count.load(ordering: .relaxed) }
}

/// A value that goes up and down.
public final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(0)
    public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// Observations counted into cumulative buckets, with their sum.
public final class Histogram: Sendable {
    /// Latency buckets from 50 µs to 10 s.
    public static let latencyBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]

    let bounds: [Double]
    private let state: Mutex<(counts: [UInt64], total: UInt64, sum: Double)>

    init(buckets: [Double]) {
        bounds = buckets.sorted()
        state = Mutex((counts: Array(repeating: 0, count: bounds.count), total: 0, sum: 0))
    }

    /// Records one observation (seconds for latencies).
    public func observe(_ value: Double) {
        let bucket = bounds.firstIndex(where: { value <= $0 })
        state.withLock { state in
            if let bucket { state.counts[bucket] += 1 }
            state.total += 1
            state.sum += value
        }
    }

    func render(name: String, labels: String) -> String {
        let snapshot = state.withLock { $0 }
        var output = ""
        var cumulative: UInt64 = 0
        let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
        for (index, bound) in bounds.enumerated() {
            cumulative += snapshot.counts[index]
            output += "\(name)_bucket{\(inner)le=\"\(bound)\"} \(cumulative)\n"
        }
        output += "\(name)_bucket{\(inner)le=\"+Inf\"} \(snapshot.total)\n"
        output += "\(name)_sum\(labels) \(snapshot.sum)\n"
        output += "\(name)_count\(labels) \(snapshot.total)\n"
        return output
    }
}
