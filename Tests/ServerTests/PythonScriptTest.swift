import Foundation
import Testing
import TestSupport

/// Runs one of `Python/*.py` the way the multi-process tests do: `--bin` the built binaries, `--workdir` a
/// fresh temporary directory (removed afterwards), bounded in time (``ScriptRun``), and expects exit status 0
/// and one of `success` in its output (a script that skips prints `skip:` and may list it).
enum PythonScriptTest {
    static func run(_ script: String, timeLimitSeconds: Double, binaries required: [String]? = nil,
                    arguments extra: [String] = [], success: [String],
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let binaries = ScriptRun.binaryDirectory
        let missing = required.map { ScriptRun.missingBinaries($0) } ?? ScriptRun.missingBinaries()
        try #require(missing.isEmpty, "\(missing) not built next to the tests in \(binaries.path)",
                     sourceLocation: sourceLocation)
        let name = (script as NSString).deletingPathExtension
        let directory = TemporaryDirectory("python-\(name)")
        defer { directory.remove() }
        let workdir = directory.file("work")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/\(script)")
        let result = try await ScriptRun.python(
            url, arguments: ["--bin", binaries.path, "--workdir", workdir] + extra,
            timeLimit: .seconds(timeLimitSeconds), scratch: directory)
        #expect(!result.timedOut, "\(script) exceeded \(timeLimitSeconds) s:\n\(result.output)", sourceLocation: sourceLocation)
        #expect(result.status == 0, "\(script) failed:\n\(result.output)", sourceLocation: sourceLocation)
        #expect(success.contains { result.output.contains($0) }, "\(result.output)", sourceLocation: sourceLocation)
    }
}
