import RESP
import RedisCommands
import Synchronization

/// The listener's counters behind INFO stats, commandstats and errorstats; CONFIG RESETSTAT zeroes them.
///
/// As in Redis: a command refused before it ran (wrong number of arguments, refused in MULTI or before AUTH)
/// counts as `rejected_calls` and not as a call; one that ran and answered an error counts as a call and as
/// `failed_calls`; an unknown command appears in errorstats only. Every error reply counts once under its
/// first word in errorstats.
final class ServerStatistics: Sendable {
    struct CommandCounts: Sendable, Hashable {
        var calls: Int64 = 0
        var microseconds: Int64 = 0
        var rejected: Int64 = 0
        var failed: Int64 = 0
    }

    struct Totals: Sendable {
        var commands: [String: CommandCounts] = [:]
        var errors: [String: Int64] = [:]
        var commandsProcessed: Int64 = 0
        var connectionsReceived: Int64 = 0
        var errorReplies: Int64 = 0
        var inputBytes: Int64 = 0
        var outputBytes: Int64 = 0
    }

    private let totals = Mutex(Totals())

    /// How a reply came about, for the counts above.
    enum Outcome {
        case executed
        /// Queued by MULTI: not run yet.
        case queued
        case rejected
        case unknownCommand
    }

    func connectionReceived() {
        totals.withLock { $0.connectionsReceived += 1 }
    }

    func transferred(input: Int, output: Int) {
        totals.withLock {
            $0.inputBytes += Int64(input)
            $0.outputBytes += Int64(output)
        }
    }

    func record(command name: String, reply: RESPValue, outcome: Outcome, microseconds: Int64) {
        let errorCode = Self.errorCode(reply)
        totals.withLock { totals in
            if let errorCode {
                totals.errorReplies += 1
                totals.errors[errorCode, default: 0] += 1
            }
            switch outcome {
            case .unknownCommand, .queued: return
            case .rejected: totals.commands[name, default: CommandCounts()].rejected += 1
            case .executed:
                totals.commandsProcessed += 1
                var counts = totals.commands[name, default: CommandCounts()]
                counts.calls += 1
                counts.microseconds += microseconds
                if errorCode != nil { counts.failed += 1 }
                totals.commands[name] = counts
            }
        }
    }

    /// The first word of an error reply (`ERR`, `WRONGTYPE` …), or nil for any other reply; an error inside
    /// EXEC's array counts where the command inside failed, not here.
    static func errorCode(_ reply: RESPValue) -> String? {
        guard case .error(let message) = reply else { return nil }
        let code = message.prefix { $0 != " " }
        return code.isEmpty ? "ERR" : String(code.prefix(64))
    }

    /// The size of a request as a RESP array of bulk strings (what clients send; an inline request is a few
    /// bytes shorter).
    static func requestBytes(_ arguments: [[UInt8]]) -> Int {
        arguments.reduce(3 + String(arguments.count).utf8.count) { $0 + 5 + String($1.count).utf8.count + $1.count }
    }

    func reset() {
        totals.withLock { totals in
            let connections = totals.connectionsReceived
            totals = Totals()
            totals.connectionsReceived = connections
        }
    }

    var snapshot: Totals { totals.withLock { $0 } }

    /// `# Commandstats` lines, sorted by command name.
    func commandStatsLines() -> [String] {
        snapshot.commands.sorted { $0.key < $1.key }.map { name, counts in
            let perCall = counts.calls == 0 ? 0 : Double(counts.microseconds) / Double(counts.calls)
            return "cmdstat_\(name):calls=\(counts.calls),usec=\(counts.microseconds),"
                + "usec_per_call=\(Self.twoDecimals(perCall)),rejected_calls=\(counts.rejected),failed_calls=\(counts.failed)"
        }
    }

    /// `# Errorstats` lines, sorted by error code.
    func errorStatsLines() -> [String] {
        snapshot.errors.sorted { $0.key < $1.key }.map { "errorstat_\($0.key):count=\($0.value)" }
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
