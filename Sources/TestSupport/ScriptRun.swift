import Foundation

/// Runs a test script (Python) as a child process without holding a thread of the concurrency pool.
///
/// Its output goes to a file, not a pipe, so a long output cannot fill a pipe buffer and block the script,
/// and the wait polls with `Task.sleep`: a test that blocked a pool thread for minutes would starve every
/// networked test running beside it. On the time limit the script gets SIGTERM, so it can stop the
/// processes it started.
public enum ScriptRun {
    /// What the script did.
    public struct Result: Sendable {
        /// The exit status; meaningless when ``timedOut``.
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
        /// Whether the script was still running at the time limit.
        public var timedOut: Bool
    }

    /// The directory holding the test bundle, where SwiftPM also puts the executables the scripts start.
    public static var binaryDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// The project executables the scripts need that were not built next to the tests.
    public static func missingBinaries(_ names: [String] = ["elastickv", "elastickv-admin"]) -> [String] {
        names.filter {
            !FileManager.default.isExecutableFile(atPath: binaryDirectory.appendingPathComponent($0).path)
        }
    }

    /// How many scripts run at once. Each starts a cluster of its own (3–4 node processes and its drivers);
    /// on a 2-core machine more than two at a time starve everything beside them (in-process gRPC tests then
    /// miss 5-second deadlines), so the rest wait their turn. The time limit counts from the start.
    public static let maxConcurrentScripts = 2
    static let scriptSlots = AsyncSlots(maxConcurrentScripts)

    /// Runs `python3 -u script arguments…` and waits at most `timeLimit` once it has started.
    public static func python(_ script: URL, arguments: [String], timeLimit: Duration,
                              scratch: TemporaryDirectory) async throws -> Result {
        await scriptSlots.acquire()
        defer { Task { await scriptSlots.release() } }
        return try await runPython(script, arguments: arguments, timeLimit: timeLimit, scratch: scratch)
    }

    static func runPython(_ script: URL, arguments: [String], timeLimit: Duration,
                          scratch: TemporaryDirectory) async throws -> Result {
        let outputPath = scratch.file("script-output.txt")
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-W", "ignore::DeprecationWarning", script.path] + arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + timeLimit
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        }
        let text = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        return Result(status: process.terminationStatus, output: text, timedOut: timedOut)
    }
}

/// A counting semaphore for tasks: `acquire` suspends (without holding a thread) until a slot is free.
actor AsyncSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
