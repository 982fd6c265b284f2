#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RESP
import Synchronization

// Node-local state: each elastickv node keeps its own latency events and per-command histograms, as each
// Redis server does. Nothing here is replicated through Raft, forwarded to the leader or persisted: a sample
// is recorded by the node whose Redis listener ran the command, LATENCY LATEST / HISTORY / GRAPH / DOCTOR /
// HISTOGRAM show only that node's samples, LATENCY RESET and CONFIG RESETSTAT clear only that node's, and a
// restart starts empty. `latency-monitor-threshold` is per node as well.

/// The latency monitor of this node (`LATENCY …`), as Redis 7.0.15 keeps it. Thread-safe.
///
/// Two stores, as in Redis. Latency events (`command`, `fast-command`, …) are recorded only while
/// `latency-monitor-threshold` is above zero and only when at least that slow; each keeps its last
/// ``historyLength`` samples, one per wall-clock second (the slowest of that second), and its all-time maximum.
/// Per-command latency histograms (`LATENCY HISTOGRAM`) count every command that ran, whatever the threshold,
/// in power-of-two buckets; CONFIG RESETSTAT clears them (``reset()``), LATENCY RESET does not.
public final class LatencyMonitor: Sendable {
    /// Samples kept per event (`LATENCY_TS_LEN`).
    public static let historyLength = 160
    /// Characters per line of `LATENCY GRAPH` (`LATENCY_GRAPH_COLS`); more samples wrap onto further blocks.
    public static let graphColumns = 80
    /// Character rows of the graph's bars.
    public static let graphRows = 4
    /// Distinct event names kept; samples of further names are dropped (Redis's events are a fixed set).
    public static let maxTrackedEvents = 256
    /// Distinct command names with a histogram; further names are not counted (Redis's command table is fixed).
    public static let maxTrackedCommands = 1_024
    /// The event of a command without Redis's `fast` flag.
    public static let commandEvent = "command"
    /// The event of a command with Redis's `fast` flag (GET, SET, INCR …).
    public static let fastCommandEvent = "fast-command"

    /// `CONFIG SET latency-monitor-threshold`: milliseconds; 0 turns the event monitor off.
    public static let thresholdParameter = IntegerConfigParameter(
        name: "latency-monitor-threshold", minimum: 0, maximum: .max)

    /// One second of an event: the slowest latency recorded in it.
    struct Sample: Hashable, Sendable {
        var unixSeconds: Int64
        var milliseconds: Int64
    }

    /// An event's samples, oldest first, and its all-time maximum.
    struct EventSeries: Hashable, Sendable {
        var samples: [Sample] = []
        var maxMilliseconds: Int64 = 0

        mutating func add(milliseconds: Int64, unixSeconds: Int64) {
            maxMilliseconds = max(maxMilliseconds, milliseconds)
            if let last = samples.last, last.unixSeconds == unixSeconds {
                samples[samples.count - 1].milliseconds = max(last.milliseconds, milliseconds)
                return
            }
            samples.append(Sample(unixSeconds: unixSeconds, milliseconds: milliseconds))
            if samples.count > LatencyMonitor.historyLength { samples.removeFirst() }
        }
    }

    /// One command's calls, counted per bucket of ``bucketBoundsNanoseconds``.
    struct CommandHistogram: Hashable, Sendable {
        var calls: Int64 = 0
        var counts = [Int64](repeating: 0, count: LatencyMonitor.bucketBoundsNanoseconds.count)
    }

    private struct State {
        var thresholdMilliseconds: Int64 = 0
        var events: [String: EventSeries] = [:]
        var histograms: [String: CommandHistogram] = [:]
    }

    private let state = Mutex(State())
    private let clockMicros: @Sendable () -> UInt64

    /// - Parameter clockMicros: The wall clock, in microseconds since 1970 (GRAPH's labels and DOCTOR's periods
    ///   count from it).
    public init(clockMicros: @escaping @Sendable () -> UInt64 = ConnectionSession.wallClockMicros) {
        self.clockMicros = clockMicros
    }

    /// `latency-monitor-threshold` in milliseconds; 0 records no events.
    ///
    /// Set it only with a value ``thresholdParameter`` accepted (`parse(_:)` gives the client's error otherwise).
    public var thresholdMilliseconds: Int64 {
        get { state.withLock { $0.thresholdMilliseconds } }
        set {
            precondition(Self.thresholdParameter.contains(newValue),
                         "latency-monitor-threshold is checked with LatencyMonitor.thresholdParameter before it is set")
            state.withLock { $0.thresholdMilliseconds = newValue }
        }
    }

    /// Records a latency sample of `event` if the monitor is on and it is at least the threshold
    /// (Redis's `latencyAddSampleIfNeeded`).
    ///
    /// A second sample within the same wall-clock second only raises that second's value.
    public func record(event: String, milliseconds: Int64, unixSeconds: Int64) {
        state.withLock { state in
            guard state.thresholdMilliseconds > 0, milliseconds >= state.thresholdMilliseconds else { return }
            guard state.events[event] != nil || state.events.count < Self.maxTrackedEvents else { return }
            state.events[event, default: EventSeries()].add(milliseconds: milliseconds, unixSeconds: unixSeconds)
        }
    }

    /// Records how long a command ran as Redis's `call()` does: the `command` or `fast-command` event, in whole
    /// milliseconds, at the monitor's wall clock.
    public func recordCommandEvent(microseconds: Int64, fast: Bool) {
        record(event: fast ? Self.fastCommandEvent : Self.commandEvent, milliseconds: max(microseconds, 0) / 1000,
               unixSeconds: Int64(clockMicros() / 1_000_000))
    }

    /// Counts one call of `name` in its latency histogram (every command that ran, the threshold aside).
    ///
    /// - Parameters:
    ///   - name: The command's full name in lower case, `get` or `config|set` for a subcommand.
    ///   - microseconds: How long it ran.
    public func recordCommand(name: String, microseconds: Int64) {
        let bucket = Self.bucket(microseconds: microseconds)
        let name = name.lowercased()
        state.withLock { state in
            guard state.histograms[name] != nil || state.histograms.count < Self.maxTrackedCommands else { return }
            state.histograms[name, default: CommandHistogram()].calls += 1
            state.histograms[name, default: CommandHistogram()].counts[bucket] += 1
        }
    }

    /// Forgets every command's histogram (CONFIG RESETSTAT); latency events stay, as in Redis.
    public func reset() {
        state.withLock { $0.histograms.removeAll() }
    }

    private var now: Int64 { Int64(clockMicros() / 1_000_000) }
}

extension LatencyMonitor {
    /// The upper bound, in nanoseconds, of each histogram bucket: Redis records a command's duration in an HDR
    /// histogram (1 ns to 1 s, 2 significant digits) and reports it at powers of two from 1024 ns, each as the
    /// highest value equivalent to it (1024 + 8 − 1 ns, 2048 + 16 − 1 ns, …); the last bucket holds the
    /// durations beyond 2^29 ns up to the 1 s cap and is reported as 2^30 − 1 ns.
    static let bucketBoundsNanoseconds: [Int64] =
        (0..<20).map { (Int64(1024) << $0) + (Int64(8) << $0) - 1 } + [(Int64(1) << 30) - 1]

    /// The longest duration Redis's histograms tell apart (`LATENCY_HISTOGRAM_MAX_VALUE`, 1 s); longer ones
    /// count as it.
    static let histogramMaxNanoseconds: Int64 = 1_000_000_000

    /// The bucket a duration falls in.
    static func bucket(microseconds: Int64) -> Int {
        let nanoseconds: Int64
        if microseconds <= 0 {
            nanoseconds = 1  // LATENCY_HISTOGRAM_MIN_VALUE
        } else if microseconds >= histogramMaxNanoseconds / 1000 {
            nanoseconds = histogramMaxNanoseconds
        } else {
            nanoseconds = microseconds * 1000
        }
        guard let index = bucketBoundsNanoseconds.firstIndex(where: { nanoseconds <= $0 }) else {
            preconditionFailure("the last histogram bucket reaches beyond the 1 s cap")
        }
        return index
    }

    /// The map `LATENCY HISTOGRAM` shows for one command: `calls`, and `histogram_usec` from each non-empty
    /// bucket's bound in microseconds to the number of calls up to that bound.
    static func reply(_ histogram: CommandHistogram) -> RESPValue {
        var cumulative: Int64 = 0
        var buckets: [RESPValue.Pair] = []
        for (index, count) in histogram.counts.enumerated() where count > 0 {
            cumulative += count
            buckets.append(.init(.integer(bucketBoundsNanoseconds[index] / 1000), .integer(cumulative)))
        }
        return .map([.init(.bulk("calls"), .integer(histogram.calls)), .init(.bulk("histogram_usec"), .map(buckets))])
    }

    /// `LATENCY HISTOGRAM [command …]`: every command with calls, by name; or, for each name asked, that command
    /// and (for a name without `|`) each of its subcommands with calls. Unknown names and commands without
    /// calls are left out; a name asked twice is answered twice, as in Redis.
    func histograms(_ names: [[UInt8]]) -> RESPValue {
        state.withLock { state in
            let selected: [String]
            if names.isEmpty {
                selected = state.histograms.keys.sorted()
            } else {
                selected = names.flatMap { raw -> [String] in
                    let name = String(decoding: raw, as: UTF8.self).lowercased()
                    let own = state.histograms[name] == nil ? [] : [name]
                    guard !name.contains("|") else { return own }
                    return own + state.histograms.keys.filter { $0.hasPrefix(name + "|") }.sorted()
                }
            }
            return .map(selected.compactMap { name in
                state.histograms[name].map { RESPValue.Pair(.bulk(name), Self.reply($0)) }
            })
        }
    }
}

extension LatencyMonitor {
    /// The reply to a whole `LATENCY` command (`arguments[0]` is `LATENCY`): DOCTOR, GRAPH event, HISTORY event,
    /// LATEST, RESET [event …], HISTOGRAM [command …], HELP, with Redis 7.0.15's errors.
    ///
    /// - Parameter slowLogThresholdMicroseconds: The node's `slowlog-log-slower-than`, which DOCTOR's advice
    ///   about `command` events depends on; without it that advice is left out.
    public func answer(_ arguments: [[UInt8]], slowLogThresholdMicroseconds: Int64? = nil) -> RESPValue {
        guard arguments.count >= 2 else { return .error("ERR wrong number of arguments for 'latency' command") }
        let subcommand = arguments[1]
        let name = SlowLog.keyword(subcommand)
        let rest = Array(arguments.dropFirst(2))
        let arity: [String: Int] = ["doctor": 0, "graph": 1, "history": 1, "latest": 0, "help": 0]
        if let expected = arity[name], rest.count != expected {
            return .error("ERR wrong number of arguments for 'latency|\(name)' command")
        }
        switch name {
        case "latest": return latest()
        case "history": return history(String(decoding: rest[0], as: UTF8.self))
        case "reset": return .integer(resetEvents(rest.map { String(decoding: $0, as: UTF8.self) }))
        case "graph": return graph(rest[0])
        case "doctor": return .bulk(doctor(slowLogThresholdMicroseconds: slowLogThresholdMicroseconds))
        case "histogram": return histograms(rest)
        case "help": return .array(Self.help.map { .simpleString($0) })
        default: return .error("ERR unknown subcommand '\(SlowLog.quoted(subcommand))'. Try LATENCY HELP.")
        }
    }

    /// `LATENCY LATEST`: per event, its name, the time and latency of its latest sample, and its maximum.
    func latest() -> RESPValue {
        let events = state.withLock { $0.events }
        return .array(events.keys.sorted().compactMap { name in
            guard let series = events[name], let last = series.samples.last else { return nil }
            return .array([.bulk(name), .integer(last.unixSeconds), .integer(last.milliseconds),
                           .integer(series.maxMilliseconds)])
        })
    }

    /// `LATENCY HISTORY event`: its samples, oldest first, as [time, latency]; none for an unknown event.
    func history(_ event: String) -> RESPValue {
        let samples = state.withLock { $0.events[event]?.samples ?? [] }
        return .array(samples.map { .array([.integer($0.unixSeconds), .integer($0.milliseconds)]) })
    }

    /// `LATENCY RESET [event …]`: forgets the events named (all without names) and answers how many existed.
    func resetEvents(_ names: [String]) -> Int64 {
        state.withLock { state in
            guard !names.isEmpty else {
                let existing = Int64(state.events.count)
                state.events.removeAll()
                return existing
            }
            return Int64(names.filter { state.events.removeValue(forKey: $0) != nil }.count)
        }
    }

    /// `LATENCY GRAPH event`: the event's samples as Redis's ASCII sparkline, or Redis's error without samples.
    ///
    /// Redis sends it as a RESP3 verbatim string (`=…txt:`); this is the same text as a bulk string.
    func graph(_ rawEvent: [UInt8]) -> RESPValue {
        let event = String(decoding: rawEvent, as: UTF8.self)
        guard let series = state.withLock({ $0.events[event] }), !series.samples.isEmpty else {
            // Redis prints the name with `%s`: up to a NUL byte.
            let shown = String(decoding: rawEvent.prefix { $0 != 0 }, as: UTF8.self)
            return .error("ERR No samples available for event '\(shown)'")
        }
        return .bulk(Self.graph(event: event, series: series, now: now))
    }

    /// `LATENCY HELP`, line for line as Redis 7.0.15 prints it.
    static let help = [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command "
            + "names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ]
}

extension LatencyMonitor {
    /// The graph of one event: a title line, a rule, then the samples oldest first as bars four rows high
    /// scaled between the lowest and highest sample (`_`, `o`, `#` fill a row by thirds, `|` fills it), a blank
    /// line, and each sample's age (`12s`, `3m`, `5h`, `2d`) written downwards beneath its column. More than
    /// ``graphColumns`` samples continue in further blocks, separated by an empty line.
    static func graph(event: String, series: EventSeries, now: Int64) -> String {
        let values = series.samples.map(\.milliseconds)
        let low = values.min() ?? 0, high = values.max() ?? 0
        var text = "\(event) - high \(high) ms, low \(low) ms (all time high \(series.maxMilliseconds) ms)\n"
        text += String(repeating: "-", count: graphColumns) + "\n"
        let labels = series.samples.map { age(now - $0.unixSeconds) }
        var start = 0
        while start < values.count {
            let end = min(start + graphColumns, values.count)
            if start != 0 { text += "\n" }
            text += sparkline(values[start..<end], labels: labels[start..<end], low: low, high: high)
            start = end
        }
        return text
    }

    /// How long ago a sample was, as the graph labels it.
    static func age(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }

    /// One block of the graph: ``graphRows`` rows of bars, a blank row, then the labels' characters row by row.
    static func sparkline(_ values: ArraySlice<Int64>, labels: ArraySlice<String>, low: Int64, high: Int64) -> String {
        let fill = Array("_o#".utf8)
        let steps = fill.count * graphRows
        let range = high == low ? 1 : Double(high - low)
        let levels = values.map { value -> Int in
            let scaled = Int((Double(value - low) * Double(steps)).rounded(.towardZero) / range)
            return min(max(scaled, 0), steps - 1)
        }
        let space = UInt8(ascii: " ")
        var lines: [[UInt8]] = []
        for row in 0..<graphRows {
            lines.append(levels.map { level -> UInt8 in
                let index = level - (graphRows - row - 1) * fill.count
                if index >= fill.count { return UInt8(ascii: "|") }
                return index >= 0 ? fill[index] : space
            })
        }
        lines.append([UInt8](repeating: space, count: levels.count))
        let labelBytes = labels.map { Array($0.utf8) }
        var depth = 0
        while labelBytes.contains(where: { $0.count > depth }) {
            lines.append(labelBytes.map { $0.count > depth ? $0[depth] : space })
            depth += 1
        }
        return lines.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
    }
}

extension LatencyMonitor {
    /// `LATENCY DOCTOR`: Redis's report, per event its number of spikes, average, mean deviation, period and
    /// all-time worst, then Redis's advice for `command` and `fast-command` events. The advice Redis derives
    /// from the host (transparent huge pages, fork, AOF) has no counterpart here and is left out.
    ///
    /// Redis sends it as a RESP3 verbatim string; this is the same text.
    func doctor(slowLogThresholdMicroseconds: Int64?) -> String {
        let (events, threshold) = state.withLock { ($0.events, $0.thresholdMilliseconds) }
        if events.isEmpty {
            return threshold == 0 ? Self.doctorDisabled : Self.doctorNoSpikes
        }
        var report = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, "
            + "do you Dave?\n\n"
        var advice = DoctorAdvice()
        let now = self.now
        for (number, name) in events.keys.sorted().enumerated() {
            guard let series = events[name] else { continue }
            report += Self.summary(number: number + 1, name: name, series: series, now: now) + "\n"
            advice.note(event: name, thresholdMilliseconds: threshold,
                        slowLogThresholdMicroseconds: slowLogThresholdMicroseconds)
        }
        return report + advice.text(thresholdMilliseconds: threshold)
    }

    /// One event's line of the report.
    static func summary(number: Int, name: String, series: EventSeries, now: Int64) -> String {
        precondition(!series.samples.isEmpty, "an event exists only with a sample")
        let latencies = series.samples.map(\.milliseconds)
        let count = Int64(latencies.count)
        let average = latencies.reduce(0, +) / count
        let meanDeviation = latencies.reduce(0) { $0 + Swift.abs(average - $1) } / count
        let oldest = series.samples.map(\.unixSeconds).min() ?? now
        let period = now - oldest == 0 ? 1 : now - oldest
        return "\(number). \(name): \(count) latency spikes (average \(average)ms, mean deviation \(meanDeviation)ms, "
            + "period \(twoDecimals(Double(period) / Double(count))) sec). Worst all time event "
            + "\(series.maxMilliseconds)ms."
    }

    /// `%.2f`, as Redis prints the period.
    static func twoDecimals(_ value: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([value]) { arguments in vsnprintf(&buffer, buffer.count, "%.2f", arguments) }
        return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Which of Redis's pieces of advice the events call for.
    struct DoctorAdvice {
        var enableSlowLog = false
        var tuneSlowLog = false
        var inspectSlowLog = false
        var scheduler = false
        var largeObjects = false

        mutating func note(event: String, thresholdMilliseconds: Int64, slowLogThresholdMicroseconds: Int64?) {
            switch SlowLog.keyword(Array(event.utf8)) {
            case LatencyMonitor.commandEvent:
                if let slowLog = slowLogThresholdMicroseconds {
                    if slowLog < 0 {
                        enableSlowLog = true
                    } else if slowLog / 1000 > thresholdMilliseconds {
                        tuneSlowLog = true
                    }
                }
                inspectSlowLog = true
                largeObjects = true
            case LatencyMonitor.fastCommandEvent:
                scheduler = true
            default:
                break
            }
        }

        func text(thresholdMilliseconds: Int64) -> String {
            guard enableSlowLog || tuneSlowLog || inspectSlowLog || scheduler || largeObjects else {
                return "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the "
                    + "Redis community to get some help, providing this report in your help request.\n"
            }
            // Redis prints the threshold in microseconds as an unsigned long long.
            let suggested = UInt64(bitPattern: thresholdMilliseconds &* 1000)
            var text = "\nI have a few advices for you:\n\n"
            if enableSlowLog {
                text += "- There are latency issues with potentially slow commands you are using. Try to enable the "
                    + "Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than \(suggested)'. "
                    + "If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"
            }
            if tuneSlowLog {
                text += "- Your current Slow Log configuration only logs events that are slower than your configured "
                    + "latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than \(suggested)'.\n"
            }
            if inspectSlowLog {
                text += "- Check your Slow Log to understand what are the commands you are running which are too "
                    + "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"
            }
            if scheduler { text += LatencyMonitor.schedulerAdvice }
            if largeObjects {
                text += "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                    + "operation. If you have very large objects that are often deleted, expired, or evicted, try "
                    + "to fragment those objects into multiple smaller objects.\n"
            }
            return text
        }
    }

    static let schedulerAdvice = [
        "- The system is slow to execute Redis code paths not containing system calls. This usually means the "
            + "system does not provide Redis CPU time to run for long periods. You should try to:",
        "  1) Lower the system load.",
        "  2) Use a computer / VM just for Redis if you are running other software in the same system.",
        "  3) Check if you have a \"noisy neighbour\" problem.",
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.",
        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using "
            + "Jemalloc. However this may create fragmentation problems.",
    ].map { $0 + "\n" }.joined()

    static let doctorDisabled = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
        + "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. "
        + "If we weren't in a deep space mission I'd suggest to take a look at "
        + "https://redis.io/topics/latency-monitor.\n"

    static let doctorNoSpikes = "Dave, no latency spike was observed during the lifetime of this Redis instance, "
        + "not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
        + "things over.\n"
}
