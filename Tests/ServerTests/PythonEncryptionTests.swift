import Foundation
import Testing
import TestSupport

/// Runs `Python/encryption_test.py` (redis-py) against elastickv processes started from the built binaries:
/// a cleartext 3-node cluster switched through Phase 1 and Phase 2 under a continuous writer with the leader
/// SIGKILLed right after the cut-over, DEK rotations and a restart of every member, the start-up refusals and a
/// data dir restored from an older copy, `resync-sidecar` after compaction, and a learner added after the
/// cut-over; every file under every data dir is searched for the values written after the cut-over.
///
/// The script stops every process it starts; this test bounds it in time. Its output goes to a file, not a
/// pipe, so a long output cannot fill a pipe buffer and block the script while the test waits for it to exit.
@Suite struct PythonEncryptionTests {
    static let timeLimitSeconds = 420.0

    /// The directory holding the test bundle, where SwiftPM also puts the executables.
    static var binaryDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/encryption_test.py")
    }

    @Test func encryptionLifeCycleAcrossProcesses() throws {
        let binaries = Self.binaryDirectory
        for name in ["elastickv", "elastickv-admin"] {
            try #require(FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(name).path),
                         "\(name) was not built next to the tests in \(binaries.path)")
        }
        let directory = TemporaryDirectory("python-encryption")
        defer { directory.remove() }
        let workdir = directory.file("cluster")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let outputPath = directory.file("output.txt")
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-W", "ignore::DeprecationWarning", Self.script.path,
                             "--bin", binaries.path, "--workdir", workdir]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(Self.timeLimitSeconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning {
            // SIGTERM lets the script stop the nodes it started before it exits.
            process.terminate()
            process.waitUntilExit()
            Issue.record("encryption_test.py exceeded \(Self.timeLimitSeconds) s")
        }
        let text = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "encryption_test.py failed:\n\(text)")
        #expect(text.contains("ok: encryption life cycle"), "\(text)")
    }
}
