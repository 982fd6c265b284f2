import Testing

/// MULTI/EXEC/DISCARD/WATCH/UNWATCH over the wire, replies as redis-server 7.0 gives them (the expected
/// bytes were taken from redis-server; the differential test compares against it in every run).
@Suite struct RedisTransactionTests {
    /// Sends each request and checks its reply, in order, on one connection.
    static func expectReplies(_ steps: [(String, String)]) async throws {
        try await RedisServerTests.withServer { client in
            for (request, expected) in steps {
                let reply = try await client.exchange(request + "\r\n", expecting: expected)
                #expect(reply == expected, "\(request)")
            }
        }
    }

    @Test func queuedCommandsRunTogetherWithPerCommandErrors() async throws {
        try await Self.expectReplies([
            ("MULTI", "+OK\r\n"), ("MULTI", "-ERR MULTI calls can not be nested\r\n"),
            ("SET s x", "+QUEUED\r\n"), ("INCR s", "+QUEUED\r\n"), ("GET s", "+QUEUED\r\n"), ("PING", "+QUEUED\r\n"),
            ("ECHO hi", "+QUEUED\r\n"),
            ("EXEC", "*5\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nx\r\n+PONG\r\n$2\r\nhi\r\n"),
            ("MULTI", "+OK\r\n"), ("SET k1 1", "+QUEUED\r\n"), ("DEL k1", "+QUEUED\r\n"), ("EXISTS k1", "+QUEUED\r\n"),
            ("EXEC", "*3\r\n+OK\r\n:1\r\n:0\r\n"),
            ("SET h x", "+OK\r\n"), ("MULTI", "+OK\r\n"), ("HSET h f v", "+QUEUED\r\n"), ("SET h2 y", "+QUEUED\r\n"),
            ("EXEC", "*2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n"),
            ("GET h2", "$1\r\ny\r\n"),
            ("MULTI", "+OK\r\n"), ("EXEC", "*0\r\n"),
            // Arguments the command itself rejects are queued and answered in place (redis-server 7.0).
            ("MULTI", "+OK\r\n"), ("SET q 1", "+QUEUED\r\n"), ("INCRBY q x", "+QUEUED\r\n"),
            ("SET q2 2 EX -1", "+QUEUED\r\n"), ("SET q3 1 NX XX", "+QUEUED\r\n"),
            ("EXEC", "*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n"
                + "-ERR invalid expire time in 'set' command\r\n-ERR syntax error\r\n"),
            ("GET q", "$1\r\n1\r\n"),
        ])
    }

    @Test func anErrorWhileQueueingAbortsTheWholeTransaction() async throws {
        try await Self.expectReplies([
            ("SET a 2", "+OK\r\n"),
            ("MULTI", "+OK\r\n"), ("SET a", "-ERR wrong number of arguments for 'set' command\r\n"),
            ("SET a 3", "+QUEUED\r\n"),
            ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
            ("GET a", "$1\r\n2\r\n"),
            ("MULTI", "+OK\r\n"), ("NOSUCH x", "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"),
            ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
            ("EXEC", "-ERR EXEC without MULTI\r\n"), ("DISCARD", "-ERR DISCARD without MULTI\r\n"),
            ("MULTI", "+OK\r\n"), ("SET a 9", "+QUEUED\r\n"), ("DISCARD", "+OK\r\n"), ("GET a", "$1\r\n2\r\n"),
            ("MULTI", "+OK\r\n"), ("WATCH a", "-ERR WATCH inside MULTI is not allowed\r\n"),
            ("UNWATCH", "+QUEUED\r\n"), ("DISCARD", "+OK\r\n"),
            ("WATCH", "-ERR wrong number of arguments for 'watch' command\r\n"),
        ])
    }

    @Test func aWatchedKeyChangedByAWriteADeleteOrExpiryAbortsExec() async throws {
        try await Self.expectReplies([
            ("SET w1 v", "+OK\r\n"), ("WATCH w1 w2", "+OK\r\n"), ("SET w1 changed", "+OK\r\n"),
            ("MULTI", "+OK\r\n"), ("SET w2 x", "+QUEUED\r\n"), ("EXEC", "*-1\r\n"), ("GET w2", "$-1\r\n"),
            // EXEC drops the watches: the next transaction runs.
            ("MULTI", "+OK\r\n"), ("SET w2 x", "+QUEUED\r\n"), ("EXEC", "*1\r\n+OK\r\n"),
            ("SET d1 v", "+OK\r\n"), ("WATCH d1", "+OK\r\n"), ("DEL d1", ":1\r\n"),
            ("MULTI", "+OK\r\n"), ("GET d1", "+QUEUED\r\n"), ("EXEC", "*-1\r\n"),
            ("WATCH same", "+OK\r\n"), ("SET same 1", "+OK\r\n"), ("DEL same", ":1\r\n"),
            ("MULTI", "+OK\r\n"), ("GET same", "+QUEUED\r\n"), ("EXEC", "*-1\r\n"),
            ("WATCH nokey", "+OK\r\n"), ("MULTI", "+OK\r\n"), ("GET nokey", "+QUEUED\r\n"), ("EXEC", "*1\r\n$-1\r\n"),
            ("WATCH w3", "+OK\r\n"), ("UNWATCH", "+OK\r\n"), ("SET w3 other", "+OK\r\n"),
            ("MULTI", "+OK\r\n"), ("GET w3", "+QUEUED\r\n"), ("EXEC", "*1\r\n$5\r\nother\r\n"),
        ])
        try await RedisServerTests.withServer { client in
            // Long enough that the key is surely live at WATCH on a loaded machine (a key already expired
            // at WATCH does not abort EXEC, in Redis neither).
            _ = try await client.exchange("SET e1 v PX 2000\r\n", expecting: "+OK\r\n")
            _ = try await client.exchange("WATCH e1\r\n", expecting: "+OK\r\n")
            try await Task.sleep(for: .milliseconds(2_500))
            _ = try await client.exchange("MULTI\r\n", expecting: "+OK\r\n")
            _ = try await client.exchange("GET e1\r\n", expecting: "+QUEUED\r\n")
            #expect(try await client.exchange("EXEC\r\n", expecting: "*-1\r\n") == "*-1\r\n", "expired since WATCH")
        }
    }

    @Test func resp3AnswersAnAbortedExecWithNull() async throws {
        try await RedisServerTests.withServer { client in
            _ = try await client.exchange("HELLO 3\r\n", expecting: "%7\r\n")
            _ = try await client.exchange("WATCH k\r\n", expecting: "+OK\r\n")
            _ = try await client.exchange("SET k 1\r\n", expecting: "+OK\r\n")
            _ = try await client.exchange("MULTI\r\n", expecting: "+OK\r\n")
            _ = try await client.exchange("GET k\r\n", expecting: "+QUEUED\r\n")
            #expect(try await client.exchange("EXEC\r\n", expecting: "_\r\n") == "_\r\n")
        }
    }
}
