import Foundation
import KV
import RESP
import RedisCommands

#if canImport(Glibc)
    import Glibc
#endif

/// Facts about the process INFO server reports, read once.
struct ProcessFacts: Sendable {
    let started = ContinuousClock.now
    /// A random identity of this run, as Redis's run_id (40 hex digits).
    let runID = (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    let os: String = {
        var name = utsname()
        guard uname(&name) == 0 else { return "Linux" }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(text(name.sysname)) \(text(name.release)) \(text(name.machine))"
    }()
}

extension RedisServer {
    /// The sections in the order Redis prints them, then elastickv's own.
    static let infoSectionOrder = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                                   "Modules", "Commandstats", "Errorstats", "Cluster", "Keyspace"]

    /// INFO [section …]: the listener's sections merged with the node's (``RedisBackend/info()``: its fields
    /// come first in a section both have). Only the sections asked for are computed; the keyspace walks every
    /// key of every database, as DBSIZE does.
    func info(_ sections: [[UInt8]]) -> String {
        var node: [String: [String]] = [:]
        var nodeOrder: [String] = []
        var current: String?
        for line in backend.info().split(separator: "\r\n") {
            if line.hasPrefix("# ") {
                let name = String(line.dropFirst(2))
                current = name
                if node[name] == nil {
                    nodeOrder.append(name)
                    node[name] = []
                }
            } else if let current, !line.isEmpty {
                node[current, default: []].append(String(line))
            }
        }
        let names = Self.infoSectionOrder + nodeOrder.filter { !Self.infoSectionOrder.contains($0) }
        // As Redis frames it: a blank line between sections, none after the last.
        return names.filter { InfoSections.selects($0.lowercased(), sections) }.map { name in
            "# \(name)\r\n" + ((node[name] ?? []) + ownInfoLines(name)).map { $0 + "\r\n" }.joined()
        }.joined(separator: "\r\n")
    }

    private func ownInfoLines(_ section: String) -> [String] {
        switch section {
        case "Server":
            let uptime = (ContinuousClock.now - facts.started).components.seconds
            return ["redis_mode:standalone", "os:\(facts.os)", "arch_bits:\(MemoryLayout<Int>.size * 8)",
                    "multiplexing_api:epoll", "process_id:\(getpid())", "run_id:\(facts.runID)",
                    "tcp_port:\(boundPort.load(ordering: .relaxed))",
                    "server_time_usec:\(ConnectionSession.wallClockMicros())", "uptime_in_seconds:\(uptime)",
                    "uptime_in_days:\(uptime / 86_400)",
                    "executable:\(CommandLine.arguments.first.map { URL(fileURLWithPath: $0).path } ?? "")",
                    "config_file:"]
        case "Clients":
            return ["connected_clients:\(connections.openCount)", "blocked_clients:\(blockedClients)",
                    "tracking_clients:0", "clients_in_timeout_table:0"]
        case "Memory":
            let process = ProcessMemory.read()
            return ["used_memory:\(process.residentBytes)", "used_memory_human:\(Self.human(process.residentBytes))",
                    "used_memory_rss:\(process.residentBytes)",
                    "used_memory_rss_human:\(Self.human(process.residentBytes))",
                    "used_memory_peak:\(process.peakResidentBytes)",
                    "used_memory_peak_human:\(Self.human(process.peakResidentBytes))",
                    "maxmemory:0", "maxmemory_human:0B", "maxmemory_policy:noeviction", "mem_allocator:libc"]
        case "Persistence":
            let state = backend.serverState()
            return ["loading:0", "async_loading:0",
                    "rdb_changes_since_last_save:\(state.appliedIndex &- min(state.appliedIndex, state.snapshotIndex))",
                    "rdb_bgsave_in_progress:0", "rdb_last_save_time:\(state.lastSnapshotUnixSeconds)",
                    "rdb_last_bgsave_status:ok", "aof_enabled:1", "aof_rewrite_in_progress:0",
                    "aof_last_write_status:ok", "elastickv_snapshot_index:\(state.snapshotIndex)"]
        case "Stats":
            let totals = statistics.snapshot
            let pubSub = pubSubHub.status(sharded: false, pattern: nil, channels: [])
            return ["total_connections_received:\(totals.connectionsReceived)",
                    "total_commands_processed:\(totals.commandsProcessed)",
                    "total_net_input_bytes:\(totals.inputBytes)", "total_net_output_bytes:\(totals.outputBytes)",
                    "rejected_connections:0", "pubsub_channels:\(pubSub.channels.count)",
                    "pubsub_patterns:\(pubSub.patterns.count)", "total_error_replies:\(totals.errorReplies)"]
        case "Replication":
            let state = backend.serverState()
            return ["connected_slaves:\(state.replicaMatchIndexes.count)"]
        case "CPU":
            var usage = rusage()
            getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
            var children = rusage()
            getrusage(Int32(RUSAGE_CHILDREN.rawValue), &children)
            func seconds(_ time: timeval) -> String { String(format: "%.6f", Double(time.tv_sec) + Double(time.tv_usec) / 1e6) }
            return ["used_cpu_sys:\(seconds(usage.ru_stime))", "used_cpu_user:\(seconds(usage.ru_utime))",
                    "used_cpu_sys_children:\(seconds(children.ru_stime))",
                    "used_cpu_user_children:\(seconds(children.ru_utime))"]
        case "Commandstats":
            return statistics.commandStatsLines()
        case "Errorstats":
            return statistics.errorStatsLines()
        case "Cluster":
            return ["cluster_enabled:0"]
        case "Keyspace":
            return keyspaceLines()
        default:
            return []
        }
    }

    /// `db<N>:keys=…,expires=…,avg_ttl=…` for each database holding keys, from this node's store as applied.
    func keyspaceLines() -> [String] {
        (0..<UInt8(RedisKeyspace.databaseCount)).compactMap { database in
            let command: ReadCommand = database == 0 ? .keyspaceSummary : .inDatabase(database, .keyspaceSummary)
            guard case .array(let counts)? = try? backend.readLocal(command), counts.count == 3,
                  case .integer(let keys) = counts[0], case .integer(let expires) = counts[1],
                  case .integer(let averageTTL) = counts[2], keys > 0
            else { return nil }
            return "db\(database):keys=\(keys),expires=\(expires),avg_ttl=\(averageTTL)"
        }
    }

    /// Redis's `_human` figures: bytes with one of B, K, M, G, T and two decimals.
    static func human(_ bytes: Int64) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes)B" : String(format: "%.2f", value) + units[unit]
    }
}
