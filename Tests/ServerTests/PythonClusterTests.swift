import Foundation
import Testing
import TestSupport

/// Runs `Python/cluster_test.py` (redis-py, installed by `.ci/run`) against a 3-node cluster started from
/// the built `elastickv` binaries: every supported command through the leader and a follower, pipelining,
/// TTLs, AUTH, a SIGKILL of the leader during writes with every acknowledged write read back, and catch-up
/// through a snapshot. The script stops every process it starts; this test bounds it in time.
@Suite struct PythonClusterTests {
    static let timeLimitSeconds = 300.0

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/cluster_test.py")
    }

    @Test func redisPyAgainstAThreeNodeClusterWithALeaderCrash() async throws {
        let binaries = ScriptRun.binaryDirectory
        try #require(ScriptRun.missingBinaries().isEmpty,
                     "\(ScriptRun.missingBinaries()) not built next to the tests in \(binaries.path)")
        let workdir = TemporaryDirectory("python-cluster")
        defer { workdir.remove() }
        let result = try await ScriptRun.python(
            Self.script, arguments: ["--bin", binaries.path, "--workdir", workdir.path],
            timeLimit: .seconds(Self.timeLimitSeconds), scratch: workdir)
        #expect(!result.timedOut, "cluster_test.py exceeded \(Self.timeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "cluster_test.py failed:\n\(result.output)")
        #expect(result.output.contains("ok: commands through"), "\(result.output)")
    }
}
