@testable import ControlPlane
import ElastickvAPI
import Foundation
import Testing
import TestSupport

@testable import Server

/// Runs the built `elastickv-admin` against a real Cluster service on loopback.
///
/// The binary is looked up next to the test bundle (SwiftPM puts every product in the same directory); these
/// tests are skipped, with that reason, when it has not been built.
@Suite(.enabled(if: AdminBinary.url != nil, "elastickv-admin is not built next to the test bundle"))
struct ElastickvAdminBinaryTests {
    @Test func statusPrintsATableAndJSON() async throws {
        try await AdminTestServer.run([ClusterService(control: FakeClusterControl())]) { _, port in
            let table = try await AdminBinary.run(["--addr", "127.0.0.1:\(port)", "cluster", "status"])
            #expect(table.status == 0)
            #expect(table.stdout == ClusterStatusRendering.table(ClusterStatusRenderingTests.threeNodes) + "\n")
            let json = try await AdminBinary.run(["cluster", "status", "--addr", "127.0.0.1:\(port)", "--json"])
            #expect(json.status == 0)
            let document = try ClusterStatusRenderingTests.object(json.stdout)
            #expect(document["leader"] as? String == "n1")
        }
    }

    /// The admin CLI is its own target: it links ControlPlane (and KV for offline resync), never the node's
    /// Server module. Swift symbols of module `Server` are mangled with the prefix `$s6Server`.
    @Test func theBinaryDoesNotLinkTheServerModule() async throws {
        try await BlockingWork.run {  // nm reads the whole binary
            let executable = try #require(AdminBinary.url)
            let nm = Process()
            nm.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            nm.arguments = ["nm", "--defined-only", executable.path]
            let output = Pipe()
            nm.standardOutput = output
            nm.standardError = FileHandle.nullDevice
            try nm.run()
            let symbols = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            nm.waitUntilExit()
            try #require(nm.terminationStatus == 0, "nm (binutils) could not read \(executable.path)")
            #expect(symbols.contains("$s12ControlPlane"), "the check must see the modules the binary does link")
            let serverSymbols = symbols.split(separator: "\n").filter { $0.contains("$s6Server") }
            #expect(serverSymbols.isEmpty, "elastickv-admin links Server: \(serverSymbols.prefix(3))")
        }
    }

    @Test func addLearnerTakesTheNodeBeforeAndTheMemberAfterTheSubcommand() async throws {
        let control = FakeClusterControl()
        try await AdminTestServer.run([ClusterService(control: control)]) { _, port in
            let result = try await AdminBinary.run([
                "--addr", "127.0.0.1:\(port)", "--json", "cluster", "add-learner", "--node-id", "n4",
                "--addr", "10.9.9.9:50054",
            ])
            #expect(result.status == 0)
            #expect(
                result.stdout == #"{"addr":"10.9.9.9:50054","index":101,"node_id":"n4","operation":"add-learner"}"#
                    + "\n")
        }
        #expect(control.calls == ["addLearner n4 10.9.9.9:50054"])
    }

    @Test func notLeaderPrintsTheLeaderOnStderrAndExitsThree() async throws {
        let control = FakeClusterControl()
        control.fail(with: .notLeader(leaderAddress: "10.1.2.3:50051"))
        try await AdminTestServer.run([ClusterService(control: control)]) { _, port in
            let result = try await AdminBinary.run([
                "--addr", "127.0.0.1:\(port)", "cluster", "promote", "--node-id", "n3",
            ])
            #expect(result.status == 75)
            #expect(result.stdout.isEmpty)
            #expect(
                result.stderr == "error: FAILED_PRECONDITION: this node is not the leader; the leader is at "
                    + "10.1.2.3:50051 (rerun with --addr 10.1.2.3:50051)\n")
        }
    }

    @Test func otherRefusalsExitOne() async throws {
        let control = FakeClusterControl()
        control.fail(with: .unknownMember("n9"))
        try await AdminTestServer.run([ClusterService(control: control)]) { _, port in
            let result = try await AdminBinary.run([
                "--addr", "127.0.0.1:\(port)", "cluster", "remove", "--node-id", "n9",
            ])
            #expect(result.status == 1)
            #expect(result.stderr == "error: NOT_FOUND: no member named 'n9'\n")
        }
    }

    @Test func withJSONFailuresAreJSONObjects() async throws {
        // Nothing listens on port 1 of loopback: the node is unreachable.
        let unreachable = try await AdminBinary.run(["--json", "--addr", "127.0.0.1:1", "cluster", "status"])
        #expect(unreachable.status == 69, "\(unreachable.stderr)")
        let error = try #require(Self.jsonError(unreachable.stderr), "not JSON: \(unreachable.stderr)")
        #expect(error["code"] as? String == "UNAVAILABLE")
        #expect(error["exit_status"] as? Int == 69)
        #expect((error["message"] as? String)?.hasPrefix("no node answers at 127.0.0.1:1") == true, "\(error)")
        let usage = try await AdminBinary.run(["--json", "cluster", "no-such-command"])
        #expect(usage.status == 64)
        let usageError = try #require(Self.jsonError(usage.stderr), "not JSON: \(usage.stderr)")
        #expect(usageError["code"] as? String == "USAGE")
        let refused = try await AdminBinary.run(["encryption", "disable", "--json"])
        #expect(refused.status == 1)
        #expect(Self.jsonError(refused.stderr)?["code"] as? String == "REFUSED")
    }

    static func jsonError(_ text: String) -> [String: Any]? {
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        return (object as? [String: Any])?["error"] as? [String: Any]
    }

    @Test func aMalformedAddressIsAUsageError() async throws {
        let result = try await AdminBinary.run(["--addr", "nowhere", "cluster", "status"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("invalid address 'nowhere'"))
    }
}

/// Finding and running the `elastickv-admin` product.
enum AdminBinary {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let url: URL? = {
        var directories = [Bundle.main.bundleURL.deletingLastPathComponent()]
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        if let first = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        return directories.map { $0.appendingPathComponent("elastickv-admin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs the binary with `arguments`, killing it if it has not exited within the test step limit.
    static func run(_ arguments: [String]) async throws -> Output {
        let process = Process()
        let executable: URL = try #require(url)
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let deadline = ContinuousClock.now + AdminTestServer.stepLimit
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("elastickv-admin \(arguments) did not exit within \(AdminTestServer.stepLimit)")
        }
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Output(status: process.terminationStatus, stdout: out, stderr: err)
    }
}
