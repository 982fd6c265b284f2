import Foundation
import Testing
import TestSupport

/// Runs `Python/cluster_test.py` (redis-py, installed by `.ci/run`) against a 3-node cluster started from
/// the built `elastickv` binaries: every supported command through the leader and a follower, pipelining,
/// TTLs, AUTH, a SIGKILL of the leader during writes with every acknowledged write read back, and catch-up
/// through a snapshot. The script stops every process it starts; this test bounds it in time.
@Suite struct PythonClusterTests {
    static let timeLimitSeconds = 300.0

    /// The directory holding the test bundle, where SwiftPM also puts the executables.
    static var binaryDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/cluster_test.py")
    }

    @Test func redisPyAgainstAThreeNodeClusterWithALeaderCrash() throws {
        let binaries = Self.binaryDirectory
        for name in ["elastickv", "elastickv-admin"] {
            try #require(FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(name).path),
                         "\(name) was not built next to the tests in \(binaries.path)")
        }
        let workdir = TemporaryDirectory("python-cluster")
        defer { workdir.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-W", "ignore::DeprecationWarning", Self.script.path,
                             "--bin", binaries.path, "--workdir", workdir.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(Self.timeLimitSeconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("cluster_test.py exceeded \(Self.timeLimitSeconds) s")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "cluster_test.py failed:\n\(text)")
        #expect(text.contains("ok: commands through"), "\(text)")
    }
}
