import Foundation

/// The scheduler state Linux shows for a process and its threads in `/proc` (`R`, `S`, `D`, `T`, `Z`, …).
public enum ProcessState {
    /// The state of process `pid`; nil when it is gone (or `/proc` cannot be read).
    public static func of(_ pid: Int32) -> Character? { read("/proc/\(pid)/stat") }

    /// The state of every thread of process `pid`; empty when it is gone.
    public static func ofThreads(_ pid: Int32) -> [Character?] {
        let tasks = "/proc/\(pid)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return threads.map { read("\(tasks)/\($0)/stat") }
    }

    private static func read(_ path: String) -> Character? {
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let end = stat.lastIndex(of: ")") else {
            return nil
        }
        // "PID (comm) STATE …": comm may itself hold spaces or parentheses, so the state follows the last ')'.
        return stat[stat.index(after: end)...].dropFirst().first
    }
}
