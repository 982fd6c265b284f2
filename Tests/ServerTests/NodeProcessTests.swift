import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The `elastickv` executable as an operator meets it: the data directory lock, exit statuses (DESIGN §6),
/// listeners bound before "node started", a bind failure naming its flag, `--version`, owner-only files and
/// a clean SIGTERM shutdown.
@Suite(.serialized) struct NodeProcessTests {
    /// A started `elastickv` process whose output goes to a file (no pipe to fill).
    final class NodeProcess: @unchecked Sendable {
        let process = Process()
        let outputPath: String

        init(_ arguments: [String], scratch: TemporaryDirectory, name: String) throws {
            outputPath = scratch.file("\(name).out")
            FileManager.default.createFile(atPath: outputPath, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.executableURL = ScriptRun.binaryDirectory.appendingPathComponent("elastickv")
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = output
            try process.run()
            try output.close()
        }

        var output: String {
            String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        }

        /// Waits until the output contains `text` (true) or the process exits or `timeout` passes (false).
        func waitFor(_ text: String, timeout: Duration = .seconds(60)) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// Waits for the process to exit (bounded), killing it past `timeout`; returns its status.
        func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("elastickv did not exit within \(timeout):\n\(output)")
            }
            return process.terminationStatus
        }

        /// Sends SIGSTOP and waits until every thread of the process has stopped: the signal is delivered
        /// asynchronously, and a thread still running could answer one more request (a Raft append, a read).
        func pause(timeout: Duration = .seconds(10)) async throws {
            kill(process.processIdentifier, SIGSTOP)
            let deadline = ContinuousClock.now + timeout
            while !Self.isStopped(process.processIdentifier) {
                guard ContinuousClock.now < deadline else {
                    Issue.record("process \(process.processIdentifier) did not stop within \(timeout)")
                    return
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        /// Whether every thread of `pid` is stopped (state `T`).
        static func isStopped(_ pid: Int32) -> Bool {
            let states = ProcessState.ofThreads(pid)
            return !states.isEmpty && states.allSatisfy { $0 == "T" }
        }

        func stop() async throws -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            return try await waitForExit()
        }
    }

    static func arguments(dataDir: String, grpc: Int, redis: Int, metrics: Int? = nil) -> [String] {
        ["--node-id", "n1", "--data-dir", dataDir, "--grpc-addr", "127.0.0.1:\(grpc)",
         "--redis-addr", "127.0.0.1:\(redis)", "--metrics-addr", metrics.map { "127.0.0.1:\($0)" } ?? "",
         "--initial-cluster", "n1=127.0.0.1:\(grpc)"]
    }

    static func requireBinary() throws {
        try #require(ScriptRun.missingBinaries(["elastickv"]).isEmpty, "elastickv is not built next to the tests")
    }

    @Test func aSecondProcessOnTheSameDataDirExits75AndTheFirstKeepsServing() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-lock")
        defer { scratch.remove() }
        let dataDir = scratch.file("data")
        let first = try NodeProcess(
            Self.arguments(dataDir: dataDir, grpc: try TestPorts.one(), redis: try TestPorts.one()),
            scratch: scratch, name: "first")
        #expect(try await first.waitFor("node started"), "\(first.output)")
        let lockBefore = try String(contentsOfFile: dataDir + "/LOCK", encoding: .utf8)
        let second = try NodeProcess(
            Self.arguments(dataDir: dataDir, grpc: try TestPorts.one(), redis: try TestPorts.one()),
            scratch: scratch, name: "second")
        #expect(try await second.waitForExit() == 75, "\(second.output)")
        #expect(second.output.contains("ErrDataDirLocked"))
        #expect(second.output.contains("process \(first.process.processIdentifier)"), "\(second.output)")
        #expect(try String(contentsOfFile: dataDir + "/LOCK", encoding: .utf8) == lockBefore)
        #expect(first.process.isRunning, "the first process was harmed:\n\(first.output)")
        for file in ["kv.db", "LOCK"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dataDir + "/" + file)[.posixPermissions]
            #expect((mode as? Int).map { $0 & 0o077 } == 0, "\(file) is readable by others: \(String(describing: mode))")
        }
        #expect(try await first.stop() == 0, "\(first.output)")
        #expect(first.output.contains("shutdown complete"), "\(first.output)")
    }

    @Test func aRedisAddressInUseIsOneLineNamingTheFlagAndExits78() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-bind")
        defer { scratch.remove() }
        // Hold a listening socket on the port the node is told to use.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        try #require(listening)
        let taken = Int(UInt16(bigEndian: address.sin_port))
        let node = try NodeProcess(
            Self.arguments(dataDir: scratch.file("data"), grpc: try TestPorts.one(), redis: taken),
            scratch: scratch, name: "node")
        #expect(try await node.waitForExit() == 78, "\(node.output)")
        #expect(node.output.contains("--redis-addr 127.0.0.1:\(taken) cannot be bound"), "\(node.output)")
        #expect(!node.output.contains("node started"), "\(node.output)")
    }

    @Test func listenersAreBoundBeforeNodeStartedIsLogged() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-started")
        defer { scratch.remove() }
        let (grpc, redis, metrics) = (try TestPorts.one(), try TestPorts.one(), try TestPorts.one())
        let node = try NodeProcess(Self.arguments(dataDir: scratch.file("data"), grpc: grpc, redis: redis,
                                                  metrics: metrics), scratch: scratch, name: "node")
        #expect(try await node.waitFor("node started"), "\(node.output)")
        let line = node.output.split(separator: "\n").first { $0.contains("node started") }.map(String.init) ?? ""
        for port in [grpc, redis, metrics] { #expect(line.contains(":\(port)"), "\(line)") }
        // Bound means connectable now.
        for port in [grpc, redis, metrics] {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(client) }
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_addr.s_addr = inet_addr("127.0.0.1")
            target.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            #expect(connected, "port \(port) is not listening after 'node started'")
        }
        #expect(try await node.stop() == 0, "\(node.output)")
    }

    @Test(arguments: [
        (["--no-such-flag"], Int32(64)),
        (["--grpc-addr", "nowhere"], Int32(64)),
        (["--log-level", "loud"], Int32(64)),
        (["--compression", "lz4"], Int32(64)),
    ])
    func usageErrorsExit64(arguments: [String], status: Int32) async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-usage")
        defer { scratch.remove() }
        let node = try NodeProcess(["--data-dir", scratch.file("data")] + arguments, scratch: scratch, name: "node")
        #expect(try await node.waitForExit() == status, "\(node.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("data")), "a usage error touched --data-dir")
    }

    @Test func aStartUpRefusalExits78() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-refusal")
        defer { scratch.remove() }
        let node = try NodeProcess(
            Self.arguments(dataDir: scratch.file("data"), grpc: try TestPorts.one(), redis: try TestPorts.one())
                + ["--encryption-enabled"], scratch: scratch, name: "node")
        #expect(try await node.waitForExit() == 78, "\(node.output)")
        #expect(node.output.contains("ErrKEKRequired"), "\(node.output)")
    }

    @Test func anEmptyMetricsAddressAfterAnEqualsSignDisablesMetrics() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-no-metrics")
        defer { scratch.remove() }
        let grpc = try TestPorts.one()
        let node = try NodeProcess(
            ["--node-id", "n1", "--data-dir", scratch.file("data"), "--grpc-addr", "127.0.0.1:\(grpc)",
             "--redis-addr", "127.0.0.1:\(try TestPorts.one())", "--metrics-addr=",
             "--initial-cluster", "n1=127.0.0.1:\(grpc)"], scratch: scratch, name: "node")
        #expect(try await node.waitFor("node started"), "\(node.output)")
        #expect(node.output.contains("metrics=disabled"), "\(node.output)")
        #expect(try await node.stop() == 0)
    }

    @Test func versionPrintsTheBuild() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-version")
        defer { scratch.remove() }
        let node = try NodeProcess(["--version"], scratch: scratch, name: "node")
        #expect(try await node.waitForExit() == 0)
        #expect(node.output.hasPrefix("0."), "\(node.output)")
    }

    /// `GET path` on 127.0.0.1:`port`; the status code and body, or `nil` when nothing answered.
    static func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = inet_addr("127.0.0.1")
        target.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<256 {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        guard let statusLine = parts.first?.split(separator: "\r\n").first,
              let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return (code, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Polls `GET path` until `predicate` holds for its status (bounded); returns the last answer.
    static func poll(port: Int, path: String, timeout: Duration = .seconds(30),
                     until predicate: (Int) -> Bool) async throws -> (status: Int, body: String)? {
        let deadline = ContinuousClock.now + timeout
        var last: (status: Int, body: String)?
        while ContinuousClock.now < deadline {
            last = httpGet(port: port, path: path)
            if let last, predicate(last.status) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    @Test func readyzGoes503WhenTheNodeLosesItsQuorumAnd200WhenItReturns() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-readyz")
        defer { scratch.remove() }
        let names = ["n1", "n2", "n3"]
        let grpc = try TestPorts.free(names.count)
        let metrics = try TestPorts.free(names.count)
        let cluster = zip(names, grpc).map { "\($0)=127.0.0.1:\($1)" }.joined(separator: ",")
        var nodes: [NodeProcess] = []
        defer { for node in nodes where node.process.isRunning { kill(node.process.processIdentifier, SIGKILL) } }
        for (index, name) in names.enumerated() {
            nodes.append(try NodeProcess(
                ["--node-id", name, "--data-dir", scratch.file(name), "--grpc-addr", "127.0.0.1:\(grpc[index])",
                 "--redis-addr", "127.0.0.1:\(try TestPorts.one())", "--metrics-addr", "127.0.0.1:\(metrics[index])",
                 "--initial-cluster", cluster], scratch: scratch, name: name))
        }
        for port in metrics {
            let health = try await Self.poll(port: port, path: "/healthz") { $0 == 200 }
            #expect(health?.status == 200 && health?.body == "ok\n")
            let ready = try await Self.poll(port: port, path: "/readyz") { $0 == 200 }
            #expect(ready?.status == 200, "\(String(describing: ready))")
        }
        // n1 alone: whether it led or followed, it loses contact with a quorum.
        for node in nodes.dropFirst() { kill(node.process.processIdentifier, SIGSTOP) }
        let lost = try await Self.poll(port: metrics[0], path: "/readyz") { $0 == 503 }
        #expect(lost?.status == 503, "\(String(describing: lost))")
        #expect(lost?.body.contains(#""ready":false"#) == true)
        #expect(Self.httpGet(port: metrics[0], path: "/healthz")?.status == 200, "healthz follows the process only")
        for node in nodes.dropFirst() { kill(node.process.processIdentifier, SIGCONT) }
        let back = try await Self.poll(port: metrics[0], path: "/readyz") { $0 == 200 }
        #expect(back?.status == 200, "\(String(describing: back))")
        let scrape = Self.httpGet(port: metrics[0], path: "/metrics")?.body ?? ""
        for series in ["elastickv_build_info{", "elastickv_apply_halted 0", "elastickv_raft_peer_reachable{"] {
            #expect(scrape.contains(series), "\(series) is not exported")
        }
        for node in nodes { #expect(try await node.stop() == 0, "\(node.output)") }
    }

    @Test func aLeaderStoppedWithSIGTERMHandsLeadershipOffAndExits0() async throws {
        try Self.requireBinary()
        let scratch = TemporaryDirectory("node-handoff")
        defer { scratch.remove() }
        let names = ["n1", "n2", "n3"]
        let grpc = try TestPorts.free(names.count)
        let redis = try TestPorts.free(names.count)
        let cluster = zip(names, grpc).map { "\($0)=127.0.0.1:\($1)" }.joined(separator: ",")
        var nodes: [NodeProcess] = []
        defer { for node in nodes where node.process.isRunning { kill(node.process.processIdentifier, SIGKILL) } }
        for (index, name) in names.enumerated() {
            nodes.append(try NodeProcess(
                ["--node-id", name, "--data-dir", scratch.file(name), "--grpc-addr", "127.0.0.1:\(grpc[index])",
                 "--redis-addr", "127.0.0.1:\(redis[index])", "--metrics-addr", "", "--initial-cluster", cluster],
                scratch: scratch, name: name))
        }
        let leaderPort = try #require(try await LeaseReadProcessTests.waitForLeader(among: redis))
        let leader = try #require(redis.firstIndex(of: leaderPort))
        let stopped = ContinuousClock.now
        #expect(try await nodes[leader].stop() == 0, "\(nodes[leader].output)")
        let output = nodes[leader].output
        #expect(output.contains("leadership handed off"), "\(output)")
        let drained = output.range(of: "redis connections drained")
        let handingOff = output.range(of: "handing leadership off")
        #expect(drained != nil && handingOff != nil && drained!.lowerBound < handingOff!.lowerBound,
                "Redis drains before the hand-off: \(output)")
        #expect(output.contains("shutdown complete"), "\(output)")
        let others = redis.enumerated().filter { $0.offset != leader }.map(\.element)
        let successor = try await LeaseReadProcessTests.waitForLeader(among: others)
        #expect(successor != nil, "no leader after the hand-off")
        // A hand-off needs no election timeout (1 s) to pass, plus the time the stop itself took.
        print("hand-off and stop took \(ContinuousClock.now - stopped)")
        for (index, node) in nodes.enumerated() where index != leader {
            #expect(try await node.stop() == 0, "\(node.output)")
        }
    }
}
