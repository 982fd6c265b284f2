import Foundation
import Testing
import TestSupport

/// Runs `Python/encryption_test.py` (redis-py) against elastickv processes started from the built binaries:
/// a cleartext 3-node cluster switched through Phase 1 and Phase 2 under a continuous writer with the leader
/// SIGKILLed right after the cut-over, DEK rotations and a restart of every member, the start-up refusals and a
/// data dir restored from an older copy, `resync-sidecar` after compaction, and a learner added after the
/// cut-over; every file under every data dir is searched for the values written after the cut-over.
///
/// The script stops every process it starts; this test bounds it in time (``ScriptRun``).
@Suite struct PythonEncryptionTests {
    static let timeLimitSeconds = 420.0

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/encryption_test.py")
    }

    @Test func encryptionLifeCycleAcrossProcesses() async throws {
        let binaries = ScriptRun.binaryDirectory
        try #require(ScriptRun.missingBinaries().isEmpty,
                     "\(ScriptRun.missingBinaries()) not built next to the tests in \(binaries.path)")
        let directory = TemporaryDirectory("python-encryption")
        defer { directory.remove() }
        let workdir = directory.file("cluster")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let result = try await ScriptRun.python(
            Self.script, arguments: ["--bin", binaries.path, "--workdir", workdir],
            timeLimit: .seconds(Self.timeLimitSeconds), scratch: directory)
        #expect(!result.timedOut, "encryption_test.py exceeded \(Self.timeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "encryption_test.py failed:\n\(result.output)")
        #expect(result.output.contains("ok: encryption life cycle"), "\(result.output)")
    }
}
