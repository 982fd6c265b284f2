import Foundation
import KV
import NIOCore
import RESP
import RedisCommands
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// CLIENT PAUSE: until when this listener holds its clients' commands back, and whether only writes.
final class ClientPause: Sendable {
    private let state = Mutex<(until: ContinuousClock.Instant, writesOnly: Bool)?>(nil)

    func pause(for milliseconds: Int64, writesOnly: Bool) {
        let until = ContinuousClock.now + .milliseconds(milliseconds)
        state.withLock { current in
            // As in Redis, a second pause keeps the later end and the wider scope of the two.
            if let existing = current, existing.until > until || !existing.writesOnly {
                current = (max(existing.until, until), existing.writesOnly && writesOnly)
            } else {
                current = (until, writesOnly)
            }
        }
    }

    func unpause() { state.withLock { $0 = nil } }

    /// Whether a request of this kind waits now.
    func holds(isWrite: Bool) -> Bool {
        state.withLock { current in
            guard let pause = current else { return false }
            guard ContinuousClock.now < pause.until else {
                current = nil
                return false
            }
            return isWrite || !pause.writesOnly
        }
    }
}

/// MONITOR: the connections that receive every command this listener's clients send.
final class Monitors: Sendable {
    private let mailboxes = Mutex<[Int64: PubSubMailbox]>([:])

    var isEmpty: Bool { mailboxes.withLock { $0.isEmpty } }

    func add(_ client: Int64, _ mailbox: PubSubMailbox) { mailboxes.withLock { $0[client] = mailbox } }

    func remove(_ client: Int64) { mailboxes.withLock { _ = $0.removeValue(forKey: client) } }

    func post(_ bytes: [UInt8]) {
        for mailbox in mailboxes.withLock({ $0.values }) { mailbox.post(bytes) }
    }

    /// Commands never shown: their arguments are credentials or they administer the listener itself.
    static let hidden: Set<String> = ["auth", "hello", "config", "debug", "monitor", "slowlog", "latency", "client"]

    /// Redis's monitor line: `+seconds.micros [db address] "arg" …` with each argument quoted and escaped.
    static func line(_ arguments: [[UInt8]], unixMicros: UInt64, database: UInt8, address: String) -> [UInt8] {
        var line = Array("+\(unixMicros / 1_000_000).".utf8)
        let micros = String(unixMicros % 1_000_000)
        line += Array((String(repeating: "0", count: 6 - micros.count) + micros).utf8)
        line += Array(" [\(database) \(address)]".utf8)
        for argument in arguments {
            line += Array(" \"".utf8)
            for byte in argument {
                switch byte {
                case UInt8(ascii: "\\"): line += Array("\\\\".utf8)
                case UInt8(ascii: "\""): line += Array("\\\"".utf8)
                case 0x0A: line += Array("\\n".utf8)
                case 0x0D: line += Array("\\r".utf8)
                case 0x09: line += Array("\\t".utf8)
                case 0x07: line += Array("\\a".utf8)
                case 0x08: line += Array("\\b".utf8)
                case 0x20...0x7E: line.append(byte)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    line += Array("\\x".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                }
            }
            line.append(UInt8(ascii: "\""))
        }
        return line + [0x0D, 0x0A]
    }
}

extension RedisServer {
    /// Answers a ``ServerCommand``.
    func server(_ command: ServerCommand, session: inout ConnectionSession, mailbox: PubSubMailbox?,
                closed: EventLoopFuture<Void>) async -> RESPValue {
        switch command {
        case .wait(let replicas, let timeout):
            return await wait(replicas: replicas, timeoutMillis: timeout, closed: closed)
        case .save(background: false):
            do throws(BackendError) { try await backend.snapshot() } catch { return .error(error.redisMessage) }
            return .ok
        case .save(background: true):
            let backend = backend, logger = logger
            Task {
                do throws(BackendError) { try await backend.snapshot() } catch {
                    logger.warning("BGSAVE: the snapshot failed", metadata: ["error": "\(error)"])
                }
            }
            return .simpleString("Background saving started")
        case .lastSave:
            return .integer(backend.serverState().lastSnapshotUnixSeconds)
        case .reset:
            pubSubHub.remove(session.clientID)
            monitors.remove(session.clientID)
            session.reset()
            return .simpleString("RESET")
        case .monitor:
            guard let mailbox else { return .error("ERR this connection cannot monitor") }
            session.isMonitoring = true
            monitors.add(session.clientID, mailbox)
            return .ok
        case .slowLog(let arguments):
            return slowLog.answer([Array("SLOWLOG".utf8)] + arguments)
        case .latency(let arguments):
            return latencyMonitor.answer([Array("LATENCY".utf8)] + arguments,
                                         slowLogThresholdMicroseconds: slowLog.thresholdMicroseconds)
        case .memory(let subcommand):
            return memory(subcommand, database: session.database)
        case .debugSleep(let duration):
            try? await Task.sleep(for: duration)
            return .ok
        case .clientPause(let milliseconds, let writesOnly):
            pause.pause(for: milliseconds, writesOnly: writesOnly)
            return .ok
        case .clientUnpause:
            pause.unpause()
            return .ok
        case .clientReply(let mode):
            switch mode {
            case .on: session.replies = .on
            case .off: session.replies = .off
            case .skip: session.skippedReplies = 2  // this command's reply and the next one's
            }
            return .ok
        }
    }

    /// WAIT: on the leader, how many other members hold every entry in its log when WAIT arrived (so every
    /// write acknowledged to this client before it, even one a previous leader committed and this one has not
    /// yet marked committed in its term), waiting up to the timeout (0: until enough do, or the
    /// connection closes) for `replicas` of them. On a follower the client's writes went to the leader: after a
    /// read barrier this member holds them, and it counts itself alone (it cannot see the others), at once.
    func wait(replicas: Int64, timeoutMillis: Int64, closed: EventLoopFuture<Void>) async -> RESPValue {
        var state = backend.serverState()
        guard state.isLeader else {
            do throws(BackendError) { _ = try await backend.read(.exists([])) } catch { return .error(error.redisMessage) }
            return .integer(1)
        }
        let target = max(state.commitIndex, state.lastLogIndex)
        let deadline = timeoutMillis == 0 ? nil : ContinuousClock.now + .milliseconds(timeoutMillis)
        func holding() -> Int64 { Int64(state.replicaMatchIndexes.filter { $0 >= target }.count) }
        await poll(every: .milliseconds(2), closed: closed) {
            state = backend.serverState()
            guard holding() < replicas, state.isLeader else { return false }
            if let deadline, ContinuousClock.now >= deadline { return false }
            return true
        }
        return .integer(holding())
    }

    /// Sleeps `interval` at a time while `keepWaiting` says so, the connection is open and the listener is not
    /// draining (WAIT, CLIENT PAUSE). `keepWaiting` is asked first, before any sleep.
    func poll(every interval: Duration, closed: EventLoopFuture<Void>, while keepWaiting: () -> Bool) async {
        let connectionClosed = Atomic<Bool>(false)
        closed.whenComplete { _ in connectionClosed.store(true, ordering: .relaxed) }
        while keepWaiting(), !connectionClosed.load(ordering: .relaxed), !connections.isDraining {
            try? await Task.sleep(for: interval)
        }
    }

    func memory(_ subcommand: ServerCommand.MemorySubcommand, database: UInt8) -> RESPValue {
        switch subcommand {
        case .usage(let key):
            do throws(BackendError) {
                return try backend.readLocal(database == 0 ? .memoryUsage(key) : .inDatabase(database, .memoryUsage(key)))
            } catch {
                return .error(error.redisMessage)
            }
        case .doctor:
            let process = ProcessMemory.read()
            return .bulk("elastickv tracks no allocator fragmentation; this process holds \(process.residentBytes) bytes "
                + "resident (peak \(process.peakResidentBytes)). INFO memory shows the same figures.\n")
        case .stats:
            let process = ProcessMemory.read()
            return .map([
                .init(.bulk("peak.allocated"), .integer(process.peakResidentBytes)),
                .init(.bulk("total.allocated"), .integer(process.residentBytes)),
                .init(.bulk("clients.normal"), .integer(Int64(connections.openCount))),
            ])
        case .mallocStats:
            return .bulk("Stats not supported for the current allocator")
        case .purge:
            // As redis-server built with libc's allocator: there is no allocator arena to purge.
            return .ok
        case .help:
            return .array([
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR", "    Return memory problems reports.",
                "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
                "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
                "STATS", "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value (an estimate: every element is counted).",
                "HELP", "    Print this help.",
            ].map { .simpleString($0) })
        }
    }

    /// Holds a request back while CLIENT PAUSE applies to it (CLIENT UNPAUSE itself never waits).
    func waitWhilePaused(_ request: RedisRequest, closed: EventLoopFuture<Void>) async {
        if case .server(.clientUnpause) = request { return }
        let isWrite: Bool
        switch request {
        case .write, .blocking, .transaction(.exec), .pubSub(.publish): isWrite = true
        case .script(let script): isWrite = script.isReplicated
        default: isWrite = false
        }
        guard pause.holds(isWrite: isWrite) else { return }
        await poll(every: .milliseconds(5), closed: closed) { pause.holds(isWrite: isWrite) }
    }
}

/// This process's resident memory, from /proc/self/status (0 where it cannot be read).
struct ProcessMemory {
    var residentBytes: Int64 = 0
    var peakResidentBytes: Int64 = 0

    static func read() -> ProcessMemory {
        var memory = ProcessMemory()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return memory }
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kilobytes = Int64(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { memory.residentBytes = kilobytes * 1024 }
            if parts[0] == "VmHWM:" { memory.peakResidentBytes = kilobytes * 1024 }
        }
        return memory
    }
}

extension RedisServer {
    /// Posts the request to every MONITOR connection but the sender's (never AUTH, HELLO or admin commands).
    func feedMonitors(_ arguments: [[UInt8]], session: ConnectionSession) {
        guard let name = arguments.first else { return }
        let lowered = String(decoding: name.prefix(32), as: UTF8.self).lowercased()
        guard RedisCommandParser.commandNameSet.contains(lowered), !Monitors.hidden.contains(lowered) else { return }
        let address = connections.address(of: session.clientID)
        monitors.post(Monitors.line(arguments, unixMicros: ConnectionSession.wallClockMicros(), database: session.database,
                                    address: address))
    }

    /// INFO's counters, the slow log and the latency histograms, after a command was answered.
    func recordStatistics(_ arguments: [[UInt8]], label: String, reply: RESPValue, outcome: ServerStatistics.Outcome,
                          duration: Duration, session: ConnectionSession) {
        let micros = SlowLog.microseconds(duration)
        statistics.record(command: label, reply: reply, outcome: outcome, microseconds: micros)
        guard outcome == .executed else { return }
        latencyMonitor.recordCommand(name: label, microseconds: micros)
        latencyMonitor.recordCommandEvent(microseconds: micros, fast: false)
        // Most commands are not slow: look the address up only for one that will be logged.
        let threshold = slowLog.thresholdMicroseconds
        guard threshold >= 0, micros >= threshold else { return }
        slowLog.record(arguments: arguments, duration: duration,
                       unixMicros: Int64(ConnectionSession.wallClockMicros()),
                       clientAddress: connections.address(of: session.clientID),
                       clientName: session.clientName.map { String(decoding: $0, as: UTF8.self) } ?? "")
    }
}

extension RedisServer {
    /// The parameters CONFIG SET may change on this listener (each node keeps its own, as each Redis server).
    var liveParameters: [(name: String, value: String)] {
        [(SlowLog.thresholdParameter.name, String(slowLog.thresholdMicroseconds)),
         (SlowLog.maxLengthParameter.name, String(slowLog.maxLength)),
         (LatencyMonitor.thresholdParameter.name, String(latencyMonitor.thresholdMilliseconds))]
    }

    /// CONFIG GET and CONFIG SET: the slow log's and latency monitor's parameters are set here, all or none
    /// (as Redis applies one CONFIG SET); a set naming any other parameter is refused by ``ServerConfig``.
    func configure(_ command: ConfigCommand, session: ConnectionSession) -> RESPValue {
        guard case .set(let pairs) = command else { return session.config.answer(command, live: liveParameters) }
        let settable = [SlowLog.thresholdParameter, SlowLog.maxLengthParameter, LatencyMonitor.thresholdParameter]
        var values: [(IntegerConfigParameter, Int64)] = []
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            let name = String(decoding: pairs[index], as: UTF8.self).lowercased()
            guard let parameter = settable.first(where: { $0.name == name }) else {
                return session.config.answer(.set(Array(pairs[index...])))
            }
            do throws(IntegerConfigParameter.Failure) { values.append((parameter, try parameter.parse(pairs[index + 1]))) } catch {
                return error.reply
            }
        }
        for (parameter, value) in values {
            switch parameter.name {
            case SlowLog.thresholdParameter.name: slowLog.thresholdMicroseconds = value
            case SlowLog.maxLengthParameter.name: slowLog.maxLength = value
            default: latencyMonitor.thresholdMilliseconds = value
            }
        }
        return .ok
    }
}
