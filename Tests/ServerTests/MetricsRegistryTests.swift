import CoreMetrics
@testable import Server
import Testing

/// The node's registry over swift-prometheus: text format, label order, running totals, swift-metrics.
@Suite struct MetricsRegistryTests {
    @Test func rendersPrometheusText() {
        let registry = MetricsRegistry()
        registry.counter("a_total", help: "A", labels: ["command": "get"]).increment(by: Int64(2))
        registry.gauge("b", help: "B").set(to: 3)
        let histogram = registry.histogram("c_seconds", help: "C", buckets: [1, 0.1])
        histogram.record(0.05)
        histogram.record(0.5)
        histogram.record(5.0)
        let text = registry.render()
        #expect(text.contains("# HELP a_total A\n# TYPE a_total counter\na_total{command=\"get\"} 2\n"), "\(text)")
        #expect(registry.sample("b") == 3)
        #expect(text.contains("c_seconds_bucket{le=\"0.1\"} 1\nc_seconds_bucket{le=\"1.0\"} 2\n"), "\(text)")
        #expect(text.contains("c_seconds_bucket{le=\"+Inf\"} 3\n"))
        #expect(registry.sample("c_seconds_count") == 3)
        #expect(registry.sample("c_seconds_sum") == 5.55)
        #expect(registry.sample("missing") == nil)
    }

    @Test func oneLabelSetIsOneSeriesWhateverTheOrderOfItsLabels() {
        let registry = MetricsRegistry()
        registry.counter("d_total", help: "D", labels: ["b": "2", "a": "1"]).increment()
        registry.counter("d_total", help: "D", labels: ["a": "1", "b": "2"]).increment()
        #expect(registry.render().contains("d_total{a=\"1\",b=\"2\"} 2\n"))
        #expect(registry.sample("d_total", labels: ["b": "2", "a": "1"]) == 2)
    }

    @Test func aRunningTotalOnlyMovesItsCounterForward() {
        let registry = MetricsRegistry()
        let labels = ["reason": "tag"]
        registry.advanceCounter("e_total", help: "E", labels: labels, to: 5)
        registry.advanceCounter("e_total", help: "E", labels: labels, to: 5)
        #expect(registry.sample("e_total", labels: labels) == 5)
        registry.advanceCounter("e_total", help: "E", labels: labels, to: 3)
        #expect(registry.sample("e_total", labels: labels) == 5, "a counter never goes down")
        registry.advanceCounter("e_total", help: "E", labels: labels, to: 9)
        #expect(registry.sample("e_total", labels: labels) == 9)
        registry.advanceCounter("e_total", help: "E", labels: ["reason": "other"], to: 1)
        #expect(registry.sample("e_total", labels: ["reason": "other"]) == 1)
    }

    @Test func swiftMetricsThroughTheFactoryLandInTheRegistry() {
        let registry = MetricsRegistry()
        let factory = registry.factory
        CoreMetrics.Counter(label: "f_total", dimensions: [("kind", "x")], factory: factory).increment(by: 4)
        CoreMetrics.Recorder(label: "g", aggregate: false, factory: factory).record(7)
        #expect(registry.sample("f_total", labels: ["kind": "x"]) == 4)
        #expect(registry.sample("g") == 7)
    }
}
