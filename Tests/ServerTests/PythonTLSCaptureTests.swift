import Foundation
import Testing
import TestSupport

/// Runs `Python/tls_capture_test.py`: a loopback packet capture while canaries are written through a follower
/// finds every canary without TLS and none with TLS on Redis and gRPC (skipped where tcpdump may not capture).
@Suite struct PythonTLSCaptureTests {
    static let timeLimitSeconds = 240.0

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/tls_capture_test.py")
    }

    @Test func noCanaryCrossesLoopbackInTheClearWithTLSOn() async throws {
        let binaries = ScriptRun.binaryDirectory
        try #require(ScriptRun.missingBinaries(["elastickv"]).isEmpty, "elastickv is not built next to the tests")
        let directory = TemporaryDirectory("python-tls-capture")
        defer { directory.remove() }
        let workdir = directory.file("runs")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let result = try await ScriptRun.python(
            Self.script, arguments: ["--bin", binaries.path, "--workdir", workdir],
            timeLimit: .seconds(Self.timeLimitSeconds), scratch: directory)
        #expect(!result.timedOut, "tls_capture_test.py exceeded \(Self.timeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "tls_capture_test.py failed:\n\(result.output)")
        #expect(result.output.contains("ok: capture on lo") || result.output.contains("skip:"), "\(result.output)")
    }
}
