import NIOCore
import NIOPosix
@testable import Server
import Testing
import TestSupport

/// BLPOP and the other blocking list commands on one listener: they time out as Redis does, wake on a push
/// from another connection, serve the client that blocked first, pop nothing for a client that went away,
/// and end when the listener drains.
@Suite(.timeLimit(.minutes(1))) struct BlockingCommandTests {
    /// Runs `body` with a listener over a fresh ``LocalBackend``.
    static func withListener(_ body: (RedisServer, Int) async throws -> Void) async throws {
        let dir = TemporaryDirectory("blocking")
        defer { dir.remove() }
        try await RedisServerTests.withListener(backend: try LocalBackend(path: dir.file("db"))) { server, port in
            try await body(server, port)
        }
    }

    /// Opens a connection, runs `body` with it, closes it.
    static func withClient<T: Sendable>(_ port: Int, _ body: (TestConnection) async throws -> T) async throws -> T {
        let channel = try await RedisDrainTests.connect(port)
        return try await channel.executeThenClose { inbound, outbound in
            try await body(TestConnection(iterator: inbound.makeAsyncIterator(), outbound: outbound))
        }
    }

    static func command(_ words: String...) -> String {
        "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    @Test func aBlockingPopTimesOutWithANullArray() async throws {
        try await Self.withListener { _, port in
            try await Self.withClient(port) { (client) async throws in
                let started = ContinuousClock.now
                #expect(try await client.exchange(Self.command("BLPOP", "none", "0.2"), expecting: "*-1\r\n") == "*-1\r\n")
                #expect(ContinuousClock.now - started >= .milliseconds(200))
                #expect(try await client.exchange(Self.command("BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"),
                                                  expecting: "*-1\r\n") == "*-1\r\n")
                #expect(try await client.exchange(Self.command("BLPOP", "none", "-1"),
                                                  expecting: "-ERR timeout is negative\r\n")
                    == "-ERR timeout is negative\r\n")
            }
        }
    }

    @Test func aPushFromAnotherConnectionWakesTheBlockedClient() async throws {
        try await Self.withListener { server, port in
            async let popped = Self.withClient(port) { (client) async throws in
                try await client.exchange(Self.command("BRPOP", "a", "b", "10"), expecting: "*2\r\n$1\r\nb\r\n$1\r\nz\r\n")
            }
            async let moved = Self.withClient(port) { (client) async throws in
                try await client.exchange(Self.command("BLMOVE", "c", "d", "LEFT", "LEFT", "10"), expecting: "$1\r\nq\r\n")
            }
            try await RedisDrainTests.waitUntil { server.blockedClients == 2 }
            try await Self.withClient(port) { (client) async throws in
                _ = try await client.exchange(Self.command("SET", "a", "not a list"), expecting: "+OK\r\n")
                _ = try await client.exchange(Self.command("RPUSH", "b", "y", "z"), expecting: ":2\r\n")
                _ = try await client.exchange(Self.command("RPUSH", "c", "q"), expecting: ":1\r\n")
            }
            #expect(try await popped == "*2\r\n$1\r\nb\r\n$1\r\nz\r\n")
            #expect(try await moved == "$1\r\nq\r\n")
            try await Self.withClient(port) { (client) async throws in
                #expect(try await client.exchange(Self.command("LRANGE", "d", "0", "-1"), expecting: "*1\r\n$1\r\nq\r\n")
                    == "*1\r\n$1\r\nq\r\n")
            }
        }
    }

    @Test func theClientThatBlockedFirstIsServedFirst() async throws {
        try await Self.withListener { server, port in
            async let first = Self.withClient(port) { (client) async throws in
                try await client.exchange(Self.command("BLPOP", "q", "10"), expecting: "*2\r\n$1\r\nq\r\n$5\r\nfirst\r\n")
            }
            try await RedisDrainTests.waitUntil { server.blockedClients == 1 }
            async let second = Self.withClient(port) { (client) async throws in
                try await client.exchange(Self.command("BLPOP", "q", "10"), expecting: "*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n")
            }
            try await RedisDrainTests.waitUntil { server.blockedClients == 2 }
            try await Self.withClient(port) { (client) async throws in
                _ = try await client.exchange(Self.command("RPUSH", "q", "first"), expecting: ":1\r\n")
                try await RedisDrainTests.waitUntil { server.blockedClients == 1 }
                _ = try await client.exchange(Self.command("RPUSH", "q", "second"), expecting: ":1\r\n")
            }
            #expect(try await first == "*2\r\n$1\r\nq\r\n$5\r\nfirst\r\n")
            #expect(try await second == "*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n")
        }
    }

    @Test func aClientThatDisconnectedWhileBlockedPopsNothing() async throws {
        try await Self.withListener { server, port in
            let gone = try await RedisDrainTests.connect(port)
            try await gone.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(string: Self.command("BLPOP", "k", "0")))
                try await RedisDrainTests.waitUntil { server.blockedClients == 1 }
            }
            try await RedisDrainTests.waitUntil { server.blockedClients == 0 }
            try await Self.withClient(port) { (client) async throws in
                _ = try await client.exchange(Self.command("RPUSH", "k", "kept"), expecting: ":1\r\n")
                try await Task.sleep(for: .milliseconds(100))
                #expect(try await client.exchange(Self.command("LLEN", "k"), expecting: ":1\r\n") == ":1\r\n")
            }
        }
    }

    @Test func insideMultiABlockingPopDoesNotWait() async throws {
        try await Self.withListener { _, port in
            try await Self.withClient(port) { (client) async throws in
                _ = try await client.exchange(Self.command("MULTI"), expecting: "+OK\r\n")
                _ = try await client.exchange(Self.command("BLPOP", "empty", "0"), expecting: "+QUEUED\r\n")
                _ = try await client.exchange(Self.command("RPUSH", "full", "x"), expecting: "+QUEUED\r\n")
                _ = try await client.exchange(Self.command("BLPOP", "full", "0"), expecting: "+QUEUED\r\n")
                let reply = "*3\r\n*-1\r\n:1\r\n*2\r\n$4\r\nfull\r\n$1\r\nx\r\n"
                #expect(try await client.exchange(Self.command("EXEC"), expecting: reply) == reply)
            }
        }
    }

    @Test func drainingTheListenerEndsABlockedCommand() async throws {
        try await Self.withListener { server, port in
            let blockedClient = try await RedisDrainTests.connect(port)
            try await blockedClient.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: Self.command("BLPOP", "k", "0")))
                try await RedisDrainTests.waitUntil { server.blockedClients == 1 }
                async let drained = server.drain(within: .seconds(10))
                var received = ""
                for try await var chunk in inbound { received += chunk.readString(length: chunk.readableBytes) ?? "" }
                #expect(received.hasPrefix("-TRYAGAIN the server is shutting down"), "\(received)")
                #expect(await drained == 0)
            }
        }
    }
}
