import Foundation
import Testing
import TestSupport

/// Runs `Python/local_cluster_test.py`, which drives `scripts/local-cluster.sh` with the binaries built next to
/// the tests: a 3-node cluster on a free base port in a temporary directory (start, status, a SET read back
/// through another member, a second start, a refused start on ports in use, stop) and a 1-node encrypted one.
///
/// The driver stops whatever the script started; this test bounds it in time (``ScriptRun``).
@Suite struct LocalClusterScriptTests {
    static let timeLimitSeconds = 240.0

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static var driver: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/local_cluster_test.py")
    }

    @Test func startStatusStopAThreeNodeAndAnEncryptedCluster() async throws {
        let binaries = ScriptRun.binaryDirectory
        try #require(ScriptRun.missingBinaries().isEmpty,
                     "\(ScriptRun.missingBinaries()) not built next to the tests in \(binaries.path)")
        let workdir = TemporaryDirectory("local-cluster-script")
        defer { workdir.remove() }
        let result = try await ScriptRun.python(
            Self.driver, arguments: ["--repo", Self.repository.path, "--bin", binaries.path, "--workdir", workdir.path],
            timeLimit: .seconds(Self.timeLimitSeconds), scratch: workdir)
        #expect(!result.timedOut, "local_cluster_test.py exceeded \(Self.timeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "local_cluster_test.py failed:\n\(result.output)")
        #expect(result.output.contains("ok: local-cluster.sh start, status, stop"), "\(result.output)")
    }
}
