import NIOCore
import NIOPosix
@testable import Server
import Testing
import TestSupport

/// The server commands the listener answers itself (issue #14 item 5), over real connections to a listener on
/// a single-process backend.
@Suite struct ServerCommandTests {
    /// A listener with two connected clients.
    static func withTwoClients(_ body: (TestConnection, TestConnection) async throws -> Void) async throws {
        let dir = TemporaryDirectory("server-commands")
        defer { dir.remove() }
        try await RedisServerTests.withListener(backend: try LocalBackend(path: dir.file("db"))) { _, port in
            func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
            }
            let first = try await connect(), second = try await connect()
            try await first.executeThenClose { firstIn, firstOut in
                try await second.executeThenClose { secondIn, secondOut in
                    try await body(TestConnection(iterator: firstIn.makeAsyncIterator(), outbound: firstOut),
                                   TestConnection(iterator: secondIn.makeAsyncIterator(), outbound: secondOut))
                }
            }
        }
    }

    @Test func clientReplyOffAndSkipDropReplies() async throws {
        try await RedisServerTests.withServer { client in
            let expected = "+OK\r\n+PONG\r\n$1\r\nb\r\n"
            let reply = try await client.exchange(
                "CLIENT REPLY OFF\r\nPING\r\nSET a 1\r\nCLIENT REPLY ON\r\nPING\r\nCLIENT REPLY SKIP\r\nECHO a\r\nECHO b\r\n",
                expecting: expected)
            #expect(reply == expected, "OFF drops its own reply and the next ones; SKIP its own and the next one")
            #expect(try await client.exchange("GET a\r\n", expecting: "$1\r\n1\r\n") == "$1\r\n1\r\n",
                    "a write whose reply was dropped was still applied")
        }
    }

    @Test func resetReturnsTheConnectionToItsFirstState() async throws {
        try await RedisServerTests.withServer { client in
            let request = "SET k zero\r\nSELECT 3\r\nCLIENT SETNAME me\r\nMULTI\r\nSET k 1\r\nRESET\r\n"
                + "CLIENT GETNAME\r\nEXEC\r\nGET k\r\n"
            let expected = "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n+RESET\r\n$-1\r\n-ERR EXEC without MULTI\r\n"
                + "$4\r\nzero\r\n"
            let reply = try await client.exchange(request, expecting: expected)
            #expect(reply == expected, "RESET discards MULTI (nothing applied), clears the name and goes back to database 0: \(reply)")
            let resp3 = try await client.exchange("HELLO 3\r\n", expecting: "%7\r\n")
            #expect(resp3.hasPrefix("%7\r\n"))
            let afterReset = try await client.exchange("RESET\r\nGET nothing\r\n", expecting: "+RESET\r\n$-1\r\n")
            #expect(afterReset.hasSuffix("$-1\r\n"), "RESET goes back to RESP2 (a RESP3 null would be _): \(afterReset)")
        }
    }

    @Test func infoHasEverySectionClientsParseAndCountsCommandsAndErrors() async throws {
        try await RedisServerTests.withServer { client in
            let expected = "+OK\r\n+OK\r\n-ERR wrong number of arguments for 'set' command\r\n"
                + "-ERR unknown command 'NOSUCH', with args beginning with: \r\n-ERR syntax error\r\n"
            #expect(try await client.exchange("SET a 1\r\nSET b 2 EX 1000\r\nSET c\r\nNOSUCH\r\nSET a b NX XX\r\n",
                                              expecting: expected) == expected)
            let everything = try await client.bulk("INFO")
            for section in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                            "Errorstats", "Cluster", "Keyspace"] {
                #expect(everything.contains("# \(section)\r\n"), "INFO shows \(section)")
            }
            #expect(!everything.contains("# Commandstats"), "commandstats is not a default section")
            for field in ["redis_version:7.2.0", "redis_mode:standalone", "process_id:", "tcp_port:", "uptime_in_seconds:",
                          "connected_clients:1", "used_memory:", "maxmemory_policy:noeviction", "aof_enabled:1",
                          "rdb_last_save_time:1700000000", "total_connections_received:1", "used_cpu_user:",
                          "cluster_enabled:0", "db0:keys=2,expires=1,avg_ttl="] {
                #expect(everything.contains("\r\n" + field), "INFO has \(field)")
            }
            let commands = try await client.bulk("INFO commandstats")
            #expect(commands.hasPrefix("# Commandstats\r\n"))
            #expect(commands.contains("cmdstat_set:calls=3,"), "\(commands)")
            #expect(commands.contains("rejected_calls=1,failed_calls=1\r\n"), "\(commands)")
            #expect(!commands.contains("nosuch"), "an unknown command is only an error")
            let errors = try await client.bulk("INFO errorstats")
            #expect(errors == "# Errorstats\r\nerrorstat_ERR:count=3\r\n", "\(errors)")
            let both = try await client.bulk("INFO keyspace cluster")
            #expect(both.hasPrefix("# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl="))
            #expect(try await client.exchange("CONFIG RESETSTAT\r\n", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(try await client.bulk("INFO errorstats") == "# Errorstats\r\n")
            #expect(try await client.bulk("INFO nosuch") == "")
            let section = "# Cluster\r\ncluster_enabled:0\r\n"
            let queued = "+OK\r\n+QUEUED\r\n*1\r\n$\(section.utf8.count)\r\n\(section)\r\n"
            #expect(try await client.exchange("MULTI\r\nINFO cluster\r\nEXEC\r\n", expecting: queued) == queued,
                    "an INFO queued in MULTI has the same sections as one outside")
        }
    }

    @Test func monitorShowsOtherClientsCommandsQuotedButNeverCredentials() async throws {
        try await Self.withTwoClients { monitor, other in
            #expect(try await monitor.exchange("MONITOR\r\n", expecting: "+OK\r\n") == "+OK\r\n")
            let wrote = try await other.exchange("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na \"b\n\r\n", expecting: "+OK\r\n")
            #expect(wrote == "+OK\r\n")
            _ = try await other.exchange("AUTH secret\r\n", expecting: "-ERR")
            _ = try await other.exchange("GET k\r\n", expecting: "$5\r\n")
            let expectedTail = " \"SET\" \"k\" \"a \\\"b\\n\"\r\n"
            // The SET line alone is about 60 bytes, both lines over 100: wait for both.
            let seen = try await monitor.exchange("", expecting: String(repeating: "x", count: 90))
            #expect(seen.hasPrefix("+"), "\(seen)")
            #expect(seen.contains(expectedTail), "\(seen)")
            #expect(seen.contains("\"GET\" \"k\""), "\(seen)")
            #expect(!seen.contains("AUTH") && !seen.contains("secret"), "credentials never reach a monitor: \(seen)")
        }
    }

    @Test func clientPauseHoldsWritesUntilItEndsAndUnpauseEndsItEarly() async throws {
        try await Self.withTwoClients { admin, other throws in
            // Taken before the pause is asked for, so the pause ends at least 400 ms after it.
            let started = ContinuousClock.now
            #expect(try await admin.exchange("CLIENT PAUSE 400 WRITE\r\n", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(try await other.exchange("SET k v\r\n", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(ContinuousClock.now - started >= .milliseconds(400), "the write waited for the pause to end")
            #expect(try await admin.exchange("CLIENT PAUSE 60000 ALL\r\nCLIENT UNPAUSE\r\n", expecting: "+OK\r\n+OK\r\n")
                == "+OK\r\n+OK\r\n")
            #expect(try await other.exchange("GET k\r\n", expecting: "$1\r\nv\r\n") == "$1\r\nv\r\n",
                    "UNPAUSE ended the 60 s pause")
        }
    }

    @Test func memoryUsageSaveLastSaveWaitAndDebugSleep() async throws {
        try await RedisServerTests.withServer { client in
            _ = try await client.exchange("SET k hello\r\nRPUSH l a b c\r\n", expecting: "+OK\r\n:3\r\n")
            let usage = try await client.exchange("MEMORY USAGE k\r\n", expecting: ":00\r\n")
            func integer(_ reply: String) -> Int { Int(String(decoding: reply.utf8.dropFirst().prefix { $0 != 13 }, as: UTF8.self)) ?? 0 }
            let bytes = integer(usage)
            #expect(bytes > 6, "the key and its value at least: \(usage)")
            let listUsage = try await client.exchange("MEMORY USAGE l SAMPLES 0\r\n", expecting: ":00\r\n")
            #expect(integer(listUsage) > bytes, "three elements cost more")
            #expect(try await client.exchange("MEMORY USAGE missing\r\n", expecting: "$-1\r\n") == "$-1\r\n")
            #expect(try await client.exchange("SAVE\r\nLASTSAVE\r\n", expecting: "+OK\r\n:1700000000\r\n")
                == "+OK\r\n:1700000000\r\n")
            #expect(try await client.exchange("BGSAVE\r\n", expecting: "+Background saving started\r\n")
                == "+Background saving started\r\n")
            #expect(try await client.exchange("WAIT 0 0\r\nWAIT 1 20\r\n", expecting: ":0\r\n:0\r\n") == ":0\r\n:0\r\n",
                    "a lone member has no replica, so WAIT 1 ends at its timeout with 0")
            let started = ContinuousClock.now
            #expect(try await client.exchange("DEBUG SLEEP 0.2\r\n", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(ContinuousClock.now - started >= .milliseconds(200))
            #expect(try await client.exchange("MULTI\r\nSAVE\r\nDISCARD\r\n", expecting:
                "+OK\r\n-ERR Command not allowed inside a transaction\r\n+OK\r\n")
                == "+OK\r\n-ERR Command not allowed inside a transaction\r\n+OK\r\n")
        }
    }
}

extension ServerCommandTests {
    @Test func theSlowLogRecordsThroughTheListenerWithTheClientAddress() async throws {
        try await RedisServerTests.withServer { client in
            let expected = "+OK\r\n+OK\r\n*2\r\n$23\r\nslowlog-log-slower-than\r\n$1\r\n0\r\n"
            #expect(try await client.exchange("CONFIG SET slowlog-log-slower-than 0\r\nSET sk sv\r\n"
                + "CONFIG GET slowlog-log-slower-than\r\n", expecting: expected) == expected)
            let entries = try await client.exchange("SLOWLOG GET 2\r\n", expecting: String(repeating: "x", count: 80))
            #expect(entries.hasPrefix("*2\r\n"), "\(entries)")
            #expect(entries.contains("$2\r\nsv\r\n") && entries.contains("127.0.0.1:"),
                    "the SET with its arguments and the client's address: \(entries)")
            #expect(try await client.exchange("CONFIG SET slowlog-max-len x\r\n", expecting: "-ERR")
                .hasPrefix("-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len')"))
        }
    }
}

extension TestConnection {
    /// Sends an inline command and returns the bulk string reply's content ("" for an empty one).
    func bulk(_ command: String) async throws -> String {
        try await outbound.write(ByteBuffer(string: command + "\r\n"))
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let headerEnd = received.firstRange(of: [0x0D, 0x0A]),
               let length = Int(String(decoding: received[1..<headerEnd.lowerBound], as: UTF8.self)) {
                if length < 0 { return "" }
                if received.count >= headerEnd.upperBound + length + 2 {
                    return String(decoding: received[headerEnd.upperBound..<(headerEnd.upperBound + length)], as: UTF8.self)
                }
            }
            guard var chunk = try await iterator.next() else { break }
            received += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return String(decoding: received, as: UTF8.self)
    }
}
