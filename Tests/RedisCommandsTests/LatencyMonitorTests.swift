import RESP
@testable import RedisCommands
import Testing

/// The expected replies were read from redis-server 7.0.15 (`LATENCY …` over a raw socket, with
/// `CONFIG SET latency-monitor-threshold 1` and `DEBUG SLEEP` making the events).
@Suite struct LatencyMonitorTests {
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }
    func words(_ line: String) -> [[UInt8]] { line.split(separator: " ").map { Array($0.utf8) } }
    func wire(_ value: RESPValue, _ version: RESPValue.ProtocolVersion = .resp2) -> String {
        String(decoding: value.encoded(version), as: UTF8.self)
    }

    /// A monitor whose wall clock stands at `nowSeconds`, with `latency-monitor-threshold` at `threshold` ms.
    func makeMonitor(nowSeconds: Int64 = 1_796_652_050, threshold: Int64 = 1) -> LatencyMonitor {
        let monitor = LatencyMonitor(clockMicros: { UInt64(nowSeconds) * 1_000_000 })
        monitor.thresholdMilliseconds = threshold
        return monitor
    }

    func text(_ reply: RESPValue) -> String {
        guard case .bulkString(let bytes) = reply else { return "not a bulk string: \(reply)" }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Events

    @Test func eventsAreRecordedOnlyWhileTheThresholdIsOnAndReached() {
        let off = makeMonitor(threshold: 0)
        off.record(event: "command", milliseconds: 500, unixSeconds: 100)
        #expect(off.answer(words("LATENCY LATEST")) == .array([]))
        let on = makeMonitor(threshold: 5)
        on.record(event: "command", milliseconds: 4, unixSeconds: 100)
        #expect(on.answer(words("LATENCY LATEST")) == .array([]))
        on.record(event: "command", milliseconds: 5, unixSeconds: 101)
        #expect(on.answer(words("LATENCY HISTORY command")) == .array([.array([.integer(101), .integer(5)])]))
    }

    @Test func samplesWithinOneSecondKeepTheSlowest() {
        let monitor = makeMonitor()
        monitor.record(event: "command", milliseconds: 200, unixSeconds: 1_796_652_045)
        monitor.record(event: "command", milliseconds: 50, unixSeconds: 1_796_652_045)
        #expect(wire(monitor.answer(words("LATENCY LATEST")))
            == "*1\r\n*4\r\n$7\r\ncommand\r\n:1796652045\r\n:200\r\n:200\r\n")
        monitor.record(event: "command", milliseconds: 300, unixSeconds: 1_796_652_045)
        #expect(monitor.answer(words("LATENCY HISTORY command"))
            == .array([.array([.integer(1_796_652_045), .integer(300)])]))
    }

    @Test func latestShowsTheLastSampleAndTheAllTimeMaximum() {
        let monitor = makeMonitor()
        monitor.record(event: "command", milliseconds: 200, unixSeconds: 1_796_652_045)
        monitor.record(event: "command", milliseconds: 1, unixSeconds: 1_796_652_047)
        monitor.record(event: "command", milliseconds: 10, unixSeconds: 1_796_652_049)
        monitor.record(event: "fast-command", milliseconds: 6, unixSeconds: 1_796_652_189)
        #expect(wire(monitor.answer(words("LATENCY LATEST")))
            == "*2\r\n*4\r\n$7\r\ncommand\r\n:1796652049\r\n:10\r\n:200\r\n"
            + "*4\r\n$12\r\nfast-command\r\n:1796652189\r\n:6\r\n:6\r\n")
        #expect(wire(monitor.answer(words("LATENCY HISTORY command")))
            == "*3\r\n*2\r\n:1796652045\r\n:200\r\n*2\r\n:1796652047\r\n:1\r\n*2\r\n:1796652049\r\n:10\r\n")
    }

    @Test func historyKeepsTheLast160SecondsButTheMaximumForever() {
        let monitor = makeMonitor()
        monitor.record(event: "command", milliseconds: 900, unixSeconds: 1)
        for second in Int64(2)...170 { monitor.record(event: "command", milliseconds: 2, unixSeconds: second) }
        guard case .array(let samples) = monitor.answer(words("LATENCY HISTORY command")) else {
            Issue.record("array expected"); return
        }
        #expect(samples.count == LatencyMonitor.historyLength)
        #expect(samples.first == .array([.integer(11), .integer(2)]))
        #expect(samples.last == .array([.integer(170), .integer(2)]))
        #expect(monitor.answer(words("LATENCY LATEST"))
            == .array([.array([.bulk("command"), .integer(170), .integer(2), .integer(900)])]))
    }

    @Test func eventNamesAreCaseSensitive() {
        let monitor = makeMonitor()
        monitor.record(event: "command", milliseconds: 3, unixSeconds: 10)
        #expect(monitor.answer(words("LATENCY HISTORY COMMAND")) == .array([]))
        #expect(monitor.answer(words("LATENCY HISTORY nosuch")) == .array([]))
    }

    @Test func resetForgetsTheEventsNamedAndCountsThoseThatExisted() {
        let monitor = makeMonitor()
        #expect(wire(monitor.answer(words("LATENCY RESET"))) == ":0\r\n")
        monitor.record(event: "command", milliseconds: 3, unixSeconds: 10)
        monitor.record(event: "fast-command", milliseconds: 3, unixSeconds: 10)
        #expect(monitor.answer(words("LATENCY RESET command command COMMAND nosuch")) == .integer(1))
        #expect(monitor.answer(words("LATENCY HISTORY command")) == .array([]))
        monitor.record(event: "command", milliseconds: 3, unixSeconds: 11)
        #expect(monitor.answer(words("latency reset")) == .integer(2))
        #expect(monitor.answer(words("LATENCY LATEST")) == .array([]))
    }

    @Test func commandEventsAreRecordedInWholeMillisecondsAtTheClock() {
        let monitor = makeMonitor(nowSeconds: 500)
        monitor.recordCommandEvent(microseconds: 999, fast: false)
        monitor.recordCommandEvent(microseconds: 7_900, fast: false)
        monitor.recordCommandEvent(microseconds: 2_000, fast: true)
        #expect(monitor.answer(words("LATENCY LATEST")) == .array([
            .array([.bulk("command"), .integer(500), .integer(7), .integer(7)]),
            .array([.bulk("fast-command"), .integer(500), .integer(2), .integer(2)]),
        ]))
    }

    // MARK: GRAPH

    @Test func graphOfOneSample() {
        let monitor = makeMonitor(nowSeconds: 1_796_652_047)
        monitor.record(event: "command", milliseconds: 200, unixSeconds: 1_796_652_045)
        #expect(wire(monitor.answer(words("LATENCY GRAPH command")))
            == "$152\r\ncommand - high 200 ms, low 200 ms (all time high 200 ms)\n"
            + String(repeating: "-", count: 80) + "\n \n \n \n_\n \n2\ns\n\r\n")
    }

    @Test func graphOfThreeSamples() {
        let monitor = makeMonitor(nowSeconds: 1_796_652_050)
        monitor.record(event: "command", milliseconds: 200, unixSeconds: 1_796_652_045)
        monitor.record(event: "command", milliseconds: 1, unixSeconds: 1_796_652_047)
        monitor.record(event: "command", milliseconds: 10, unixSeconds: 1_796_652_049)
        #expect(wire(monitor.answer(words("LATENCY GRAPH command")))
            == "$164\r\ncommand - high 200 ms, low 1 ms (all time high 200 ms)\n"
            + String(repeating: "-", count: 80) + "\n#  \n|  \n|  \n|__\n   \n531\nsss\n\r\n")
    }

    /// 86 samples taken one or two seconds apart: the graph wraps after 80 columns.
    static let wrappingSamples: [(Int64, Int64)] = [
        (0, 2), (1, 5), (3, 9), (4, 20), (5, 40), (7, 3), (8, 3), (10, 6), (11, 10), (12, 21), (14, 41), (15, 4),
        (16, 4), (18, 7), (19, 11), (20, 22), (22, 42), (23, 5), (24, 5), (26, 8), (27, 12), (28, 23), (30, 43),
        (31, 6), (32, 6), (34, 9), (35, 13), (37, 24), (38, 44), (39, 7), (41, 7), (42, 10), (43, 14), (45, 25),
        (46, 45), (47, 8), (49, 8), (50, 11), (51, 15), (53, 26), (54, 46), (55, 9), (57, 9), (58, 12), (60, 16),
        (61, 27), (62, 47), (64, 10), (65, 10), (66, 13), (68, 17), (69, 28), (70, 48), (72, 11), (73, 11), (74, 14),
        (76, 18), (77, 29), (78, 49), (80, 12), (81, 12), (82, 15), (84, 19), (85, 30), (87, 50), (88, 13), (89, 13),
        (91, 16), (92, 20), (93, 31), (95, 51), (96, 14), (97, 14), (99, 17), (100, 21), (101, 32), (103, 52),
        (104, 15), (105, 15), (107, 18), (108, 22), (110, 33), (111, 53), (112, 16), (114, 16), (115, 19),
    ]
    static let wrappingBase: Int64 = 1_796_652_317

    func wrappingMonitor(nowSeconds: Int64) -> LatencyMonitor {
        let monitor = makeMonitor(nowSeconds: nowSeconds)
        for (offset, milliseconds) in Self.wrappingSamples {
            monitor.record(event: "command", milliseconds: milliseconds, unixSeconds: Self.wrappingBase + offset)
        }
        return monitor
    }

    @Test func graphOfMoreThan80SamplesWraps() {
        let monitor = wrappingMonitor(nowSeconds: Self.wrappingBase + 117)
        let expected = [
            "command - high 53 ms, low 2 ms (all time high 53 ms)",
            "--------------------------------------------------------------------------------",
            "          _     _     _     _     o     o     o     o     #     #     #     #   ",
            "    #     |     |     |     |     |     |     |    _|    _|    _|    _|    o|   ",
            "   o|    o|    o|    o|    #|    #|   _#|   _#|   _||   _||  _o||  _o||  _o||___",
            "__o||___o||__o#||__o#||__o#||ooo#||oo#|||oo#|||oo#|||###|||##||||##||||##|||||||",
            "                                                                                ",
            "11111111111111111111111111111111111111111115555555444444443333333222222221111111",
            "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm9765321987543109765320986542108764320",
            "                                           sssssssssssssssssssssssssssssssssssss",
            "",
            "  #   ",
            " o|   ",
            "o||__o",
            "||||||",
            "      ",
            "976532",
            "ssssss",
            "",
        ].joined(separator: "\n")
        let graph = text(monitor.answer(words("LATENCY GRAPH command")))
        #expect(graph == expected)
        #expect(graph.utf8.count == 832)
    }

    @Test func graphLabelsCountMinutesHoursAndDays() {
        #expect(LatencyMonitor.age(59) == "59s")
        #expect(LatencyMonitor.age(60) == "1m")
        #expect(LatencyMonitor.age(3_599) == "59m")
        #expect(LatencyMonitor.age(3_600) == "1h")
        #expect(LatencyMonitor.age(86_399) == "23h")
        #expect(LatencyMonitor.age(86_400 * 3) == "3d")
    }

    @Test func graphOfAnEventWithoutSamplesIsRedisError() {
        let monitor = makeMonitor()
        #expect(monitor.answer(words("LATENCY GRAPH command"))
            == .error("ERR No samples available for event 'command'"))
        #expect(monitor.answer([b("LATENCY"), b("GRAPH"), b("ev\u{0}x")])
            == .error("ERR No samples available for event 'ev'"))
    }

    // MARK: DOCTOR

    @Test func doctorWithoutEventsTellsWhetherMonitoringIsOn() {
        #expect(wire(makeMonitor(threshold: 0).answer(words("LATENCY DOCTOR")))
            == "$288\r\nI'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You "
            + "may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't "
            + "in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n\r\n")
        #expect(wire(makeMonitor(threshold: 1).answer(words("LATENCY DOCTOR")))
            == "$196\r\nDave, no latency spike was observed during the lifetime of this Redis instance, not in the "
            + "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things "
            + "over.\n\r\n")
    }

    static let doctorOpening = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
        + "about it, do you Dave?\n\n"
    static let schedulerAdvice = "- The system is slow to execute Redis code paths not containing system calls. This "
        + "usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
        + "  1) Lower the system load.\n"
        + "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
        + "  3) Check if you have a \"noisy neighbour\" problem.\n"
        + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
        + "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using "
        + "Jemalloc. However this may create fragmentation problems.\n"
    static let inspectAdvice = "- Check your Slow Log to understand what are the commands you are running which are "
        + "too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"
    static let largeObjectsAdvice = "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        + "blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to "
        + "fragment those objects into multiple smaller objects.\n"

    @Test func doctorOnAFastCommandEventAdvisesOnTheScheduler() {
        let monitor = makeMonitor(nowSeconds: 1_796_652_190)
        monitor.record(event: "fast-command", milliseconds: 6, unixSeconds: 1_796_652_189)
        let report = text(monitor.answer(words("LATENCY DOCTOR")))
        #expect(report == Self.doctorOpening
            + "1. fast-command: 1 latency spikes (average 6ms, mean deviation 0ms, period 1.00 sec). Worst all time "
            + "event 6ms.\n\nI have a few advices for you:\n\n" + Self.schedulerAdvice)
        #expect(report.utf8.count == 869)
    }

    /// `command` at 1 and 10 ms a second apart and `fast-command` at 6 ms, a second before the report.
    func commandAndFastCommand() -> LatencyMonitor {
        let monitor = makeMonitor(nowSeconds: 1_796_652_190)
        monitor.record(event: "command", milliseconds: 1, unixSeconds: 1_796_652_189)
        monitor.record(event: "fast-command", milliseconds: 6, unixSeconds: 1_796_652_189)
        monitor.record(event: "command", milliseconds: 10, unixSeconds: 1_796_652_190)
        return monitor
    }

    static let commandAndFastCommandLines = "1. command: 2 latency spikes (average 5ms, mean deviation 4ms, period "
        + "0.50 sec). Worst all time event 10ms.\n2. fast-command: 1 latency spikes (average 6ms, mean deviation "
        + "0ms, period 1.00 sec). Worst all time event 6ms.\n\nI have a few advices for you:\n\n"

    @Test func doctorAsksToEnableTheSlowLogWhenItIsOff() {
        let report = text(commandAndFastCommand().answer(words("LATENCY DOCTOR"), slowLogThresholdMicroseconds: -1))
        #expect(report == Self.doctorOpening + Self.commandAndFastCommandLines
            + "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log "
            + "Redis feature using the command 'CONFIG SET slowlog-log-slower-than 1000'. If the Slow log is "
            + "disabled Redis is not able to log slow commands execution for you.\n"
            + Self.inspectAdvice + Self.schedulerAdvice + Self.largeObjectsAdvice)
        #expect(report.utf8.count == 1651)
    }

    @Test func doctorAsksToLowerASlowLogThresholdAboveTheMonitorThreshold() {
        let monitor = commandAndFastCommand()
        let tuned = text(monitor.answer(words("LATENCY DOCTOR"), slowLogThresholdMicroseconds: 2000))
        #expect(tuned == Self.doctorOpening + Self.commandAndFastCommandLines
            + "- Your current Slow Log configuration only logs events that are slower than your configured latency "
            + "monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than 1000'.\n"
            + Self.inspectAdvice + Self.schedulerAdvice + Self.largeObjectsAdvice)
        #expect(tuned.utf8.count == 1563)
        for slowLog: Int64? in [1999, 1000, 0, nil] {
            let plain = text(monitor.answer(words("LATENCY DOCTOR"), slowLogThresholdMicroseconds: slowLog))
            #expect(plain == Self.doctorOpening + Self.commandAndFastCommandLines + Self.inspectAdvice
                + Self.schedulerAdvice + Self.largeObjectsAdvice, "slowlog-log-slower-than \(slowLog ?? 0)")
            #expect(plain.utf8.count == 1390)
        }
    }

    @Test func doctorSummarisesEverySampleOfAnEvent() {
        let monitor = wrappingMonitor(nowSeconds: Self.wrappingBase + 118)
        let report = text(monitor.answer(words("LATENCY DOCTOR"), slowLogThresholdMicroseconds: 0))
        #expect(report == Self.doctorOpening
            + "1. command: 86 latency spikes (average 19ms, mean deviation 10ms, period 1.37 sec). Worst all time "
            + "event 53ms.\n\nI have a few advices for you:\n\n" + Self.inspectAdvice + Self.largeObjectsAdvice)
        #expect(report.utf8.count == 664)
    }

    @Test func doctorWithoutAdviceForAnEventSaysSo() {
        let monitor = makeMonitor(nowSeconds: 20)
        monitor.record(event: "example-event", milliseconds: 4, unixSeconds: 20)
        #expect(text(monitor.answer(words("LATENCY DOCTOR"))) == Self.doctorOpening
            + "1. example-event: 1 latency spikes (average 4ms, mean deviation 0ms, period 1.00 sec). Worst all time "
            + "event 4ms.\n\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
            + "the Redis community to get some help, providing this report in your help request.\n")
    }

    @Test func doctorReportsEventsRecordedBeforeMonitoringWasTurnedOff() {
        let monitor = makeMonitor(nowSeconds: 11)
        monitor.record(event: "fast-command", milliseconds: 6, unixSeconds: 10)
        monitor.thresholdMilliseconds = 0
        #expect(text(monitor.answer(words("LATENCY DOCTOR"))).hasPrefix(Self.doctorOpening))
    }

    // MARK: HISTOGRAM

    @Test func histogramBucketsAreRedisPowerOfTwoBounds() {
        let bounds = LatencyMonitor.bucketBoundsNanoseconds.map { $0 / 1000 }
        #expect(bounds == [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266,
                           270532, 541065, 1_073_741])
        func reported(_ microseconds: Int64) -> Int64 {
            LatencyMonitor.bucketBoundsNanoseconds[LatencyMonitor.bucket(microseconds: microseconds)] / 1000
        }
        #expect(reported(-5) == 1)
        #expect(reported(0) == 1)
        #expect(reported(1) == 1)
        #expect(reported(2) == 2)
        #expect(reported(3) == 4)
        #expect(reported(4) == 4)
        #expect(reported(5) == 8)
        #expect(reported(33) == 33)
        #expect(reported(34) == 66)
        #expect(reported(300_000) == 541065)
        #expect(reported(541_065) == 541065)
        #expect(reported(541_066) == 1_073_741)
        #expect(reported(600_000) == 1_073_741)
        #expect(reported(1_200_000) == 1_073_741)
        #expect(reported(.max) == 1_073_741)
    }

    @Test func histogramOfOneCommandInRESP2AndRESP3() {
        let monitor = makeMonitor()
        monitor.recordCommand(name: "echo", microseconds: 3)
        #expect(wire(monitor.answer(words("LATENCY HISTOGRAM echo")))
            == "*2\r\n$4\r\necho\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n*2\r\n:4\r\n:1\r\n")
        monitor.recordCommand(name: "set", microseconds: 5)
        for micros: Int64 in [9, 10, 12, 16, 16] { monitor.recordCommand(name: "set", microseconds: micros) }
        monitor.recordCommand(name: "set", microseconds: 20)
        #expect(wire(monitor.answer(words("LATENCY HISTOGRAM set")), .resp3)
            == "%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:7\r\n$14\r\nhistogram_usec\r\n%3\r\n:8\r\n:1\r\n:16\r\n:6\r\n"
            + ":33\r\n:7\r\n")
    }

    @Test func histogramCapsDurationsAtOneSecond() {
        let monitor = makeMonitor()
        for micros: Int64 in [300_000, 600_000, 1_200_000] {
            monitor.recordCommand(name: "debug", microseconds: micros)
        }
        #expect(wire(monitor.answer(words("LATENCY HISTOGRAM DEBUG")))
            == "*2\r\n$5\r\ndebug\r\n*4\r\n$5\r\ncalls\r\n:3\r\n$14\r\nhistogram_usec\r\n*4\r\n:541065\r\n:1\r\n"
            + ":1073741\r\n:3\r\n")
    }

    func names(_ reply: RESPValue) -> [String] {
        guard case .map(let pairs) = reply else { return [] }
        return pairs.map { pair -> String in
            guard case .bulkString(let bytes) = pair.key else { return "?" }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test func histogramSelectsCommandsAndTheSubcommandsOfAContainer() {
        let monitor = makeMonitor()
        for name in ["config|resetstat", "config|get", "latency|histogram", "get", "set"] {
            monitor.recordCommand(name: name, microseconds: 10)
        }
        #expect(names(monitor.answer(words("LATENCY HISTOGRAM")))
            == ["config|get", "config|resetstat", "get", "latency|histogram", "set"])
        let asked = "LATENCY HISTOGRAM incr SET config CONFIG|GET nosuch config|nosuch get|x latency"
        #expect(names(monitor.answer(words(asked)))
            == ["set", "config|get", "config|resetstat", "config|get", "latency|histogram"])
        #expect(monitor.answer(words("LATENCY HISTOGRAM nosuchcmd")) == .map([]))
        #expect(wire(monitor.answer(words("LATENCY HISTOGRAM nosuchcmd"))) == "*0\r\n")
    }

    @Test func resetStatisticsClearsHistogramsButNotEvents() {
        let monitor = makeMonitor()
        monitor.recordCommand(name: "get", microseconds: 10)
        monitor.record(event: "command", milliseconds: 3, unixSeconds: 10)
        #expect(monitor.answer(words("LATENCY RESET")) == .integer(1))
        #expect(names(monitor.answer(words("LATENCY HISTOGRAM"))) == ["get"])
        monitor.record(event: "command", milliseconds: 3, unixSeconds: 11)
        monitor.reset()
        #expect(monitor.answer(words("LATENCY HISTOGRAM")) == .map([]))
        #expect(monitor.answer(words("LATENCY HISTORY command")) == .array([.array([.integer(11), .integer(3)])]))
    }

    @Test func histogramNamesAreLowerCased() {
        let monitor = makeMonitor()
        monitor.recordCommand(name: "GET", microseconds: 1)
        #expect(names(monitor.answer(words("LATENCY HISTOGRAM get"))) == ["get"])
    }

    // MARK: HELP and errors

    @Test func helpIsRedisText() {
        #expect(wire(makeMonitor().answer(words("LATENCY HELP")))
            == "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n"
            + "+    Return a human readable latency analysis report.\r\n+GRAPH <event>\r\n"
            + "+    Return an ASCII latency graph for the <event> class.\r\n+HISTORY <event>\r\n"
            + "+    Return time-latency samples for the <event> class.\r\n+LATEST\r\n"
            + "+    Return the latest latency samples for all events.\r\n+RESET [<event> ...]\r\n"
            + "+    Reset latency data of one or more <event> classes.\r\n"
            + "+    (default: reset all data for all event classes)\r\n+HISTOGRAM [COMMAND ...]\r\n"
            + "+    Return a cumulative distribution of latencies in the format of a histogram for the specified "
            + "command names.\r\n+    If no commands are specified then all histograms are replied.\r\n+HELP\r\n"
            + "+    Prints this help.\r\n")
    }

    @Test func arityErrorsNameTheSubcommandInLowerCase() {
        let monitor = makeMonitor()
        #expect(monitor.answer(words("LATENCY")) == .error("ERR wrong number of arguments for 'latency' command"))
        for (line, name) in [("LATENCY LATEST x", "latest"), ("LATENCY HISTORY", "history"),
                             ("LATENCY HISTORY a b", "history"), ("LATENCY DOCTOR x", "doctor"),
                             ("LATENCY GRAPH", "graph"), ("latency Graph a b", "graph"), ("LATENCY HELP x", "help")] {
            #expect(monitor.answer(words(line))
                == .error("ERR wrong number of arguments for 'latency|\(name)' command"), "\(line)")
        }
    }

    @Test func unknownSubcommandsAreRedisError() {
        let monitor = makeMonitor()
        #expect(monitor.answer(words("LATENCY NOSUCH")) == .error("ERR unknown subcommand 'NOSUCH'. Try LATENCY HELP."))
        #expect(monitor.answer(words("latency nosuch x y"))
            == .error("ERR unknown subcommand 'nosuch'. Try LATENCY HELP."))
    }

    @Test func thresholdIsCheckedAsRedisChecksIt() throws {
        #expect(LatencyMonitor(clockMicros: { 0 }).thresholdMilliseconds == 0)
        #expect(try LatencyMonitor.thresholdParameter.parse(b("0")) == 0)
        #expect(try LatencyMonitor.thresholdParameter.parse(b("100")) == 100)
        #expect(throws: IntegerConfigParameter.Failure.outOfRange(parameter: "latency-monitor-threshold", minimum: 0,
                                                                   maximum: .max)) {
            try LatencyMonitor.thresholdParameter.parse(self.b("-1"))
        }
        for bad in ["y", " 5", "5 ", "-0"] {
            #expect(throws: IntegerConfigParameter.Failure.notAnInteger(parameter: "latency-monitor-threshold")) {
                try LatencyMonitor.thresholdParameter.parse(self.b(bad))
            }
        }
        #expect(IntegerConfigParameter.Failure.outOfRange(parameter: "latency-monitor-threshold", minimum: 0,
                                                          maximum: .max).message
            == "ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be "
            + "between 0 and 9223372036854775807 inclusive")
    }
}
