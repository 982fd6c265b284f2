import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import RESP
@testable import Server
import Synchronization
import Testing
import TestSupport

@Suite struct RedisServerTests {
    /// Starts a listener on 127.0.0.1 with an ephemeral port, runs `body` with a connected client, stops.
    static func withServer(password: String? = nil, _ body: (TestConnection) async throws -> Void) async throws {
        let dir = TemporaryDirectory("redis-server")
        defer { dir.remove() }
        try await withListener(backend: try LocalBackend(path: dir.file("db")), password: password) { _, port in
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await client.executeThenClose { inbound, outbound in
                try await body(TestConnection(iterator: inbound.makeAsyncIterator(), outbound: outbound))
            }
        }
    }

    /// Runs a listener over `backend` on 127.0.0.1 with an ephemeral port, runs `body` with it and its port
    /// once bound, then stops it.
    static func withListener(backend: any RedisBackend, password: String? = nil, maxValueBytes: Int = 1024,
                             _ body: (RedisServer, Int) async throws -> Void) async throws {
        let port = Mutex<Int?>(nil)
        let server = RedisServer(
            configuration: .init(host: "127.0.0.1", port: 0, password: password.map { Array($0.utf8) },
                                 maxValueBytes: maxValueBytes, onBound: { address in port.withLock { $0 = address.port } }),
            backend: backend, metrics: MetricsRegistry(), logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var bound: Int?
            for _ in 0..<500 where bound == nil {
                bound = port.withLock { $0 }
                if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            try await body(server, try #require(bound))
            group.cancelAll()
        }
    }

    @Test func pipelinedCommandsAnswerInOrder() async throws {
        try await Self.withServer { client in
            let request = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\nPING\r\n"
            let expected = "+OK\r\n$5\r\nhello\r\n-ERR value is not an integer or out of range\r\n+PONG\r\n"
            let reply = try await client.exchange(request, expecting: expected)
            #expect(reply == expected)
        }
    }

    @Test func emptyRequestsGetNoReply() async throws {
        try await Self.withServer { client in
            let reply = try await client.exchange("\r\n\r\n*0\r\nPING\r\n", expecting: "+PONG\r\n")
            #expect(reply == "+PONG\r\n")
        }
    }

    @Test func helloThreeSwitchesRepliesToRESP3() async throws {
        try await Self.withServer { client in
            let hello = try await client.exchange("HELLO 3\r\n", expecting: "%7\r\n")
            #expect(hello.hasPrefix("%7\r\n"))
            let null = try await client.exchange("GET missing\r\n", expecting: "_\r\n")
            #expect(null.hasSuffix("_\r\n"))
        }
    }

    @Test func passwordIsRequiredWhenConfigured() async throws {
        try await Self.withServer(password: "pw") { client in
            let refused = "-NOAUTH Authentication required.\r\n"
            let beforeAuth = try await client.exchange("GET k\r\n", expecting: refused)
            #expect(beforeAuth == refused)
            let auth = try await client.exchange("AUTH pw\r\n", expecting: "+OK\r\n")
            #expect(auth == "+OK\r\n")
            let afterAuth = try await client.exchange("GET k\r\n", expecting: "$-1\r\n")
            #expect(afterAuth == "$-1\r\n")
        }
    }

    @Test func oversizedValueGetsACleanError() async throws {
        try await Self.withServer { client in
            let value = String(repeating: "x", count: 1025)
            let reply = try await client.exchange("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n\(value)\r\n",
                                                expecting: "-ERR string exceeds maximum allowed size")
            #expect(reply == "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        }
    }

    @Test func protocolErrorIsAnsweredThenTheConnectionCloses() async throws {
        try await Self.withServer { client in
            let reply = try await client.exchange("*1\r\n:5\r\n", expecting: "-ERR Protocol error")
            #expect(reply.hasPrefix("-ERR Protocol error: expected '$', got ':'"))
        }
    }
}

@Suite struct RESPRequestDecoderTests {
    @Test func decodesSplitAndPipelinedRequests() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPRequestDecoder(parser: RESPRequestParser())))
        try channel.writeInbound(ByteBuffer(string: "*1\r\n$4\r\nPI"))
        #expect(try channel.readInbound(as: [[UInt8]].self) == nil)
        try channel.writeInbound(ByteBuffer(string: "NG\r\nECHO a\r\n"))
        #expect(try channel.readInbound(as: [[UInt8]].self) == [Array("PING".utf8)])
        #expect(try channel.readInbound(as: [[UInt8]].self) == [Array("ECHO".utf8), Array("a".utf8)])
        #expect(throws: RESPProtocolError.self) { try channel.writeInbound(ByteBuffer(string: "*x\r\n")) }
    }
}

/// One client connection of a test, reading replies with a single iterator.
final class TestConnection {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    init(iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.iterator = iterator
        self.outbound = outbound
    }

    /// Sends `request` and reads until at least as many bytes as `expecting` arrived (bounded in time).
    func exchange(_ request: String, expecting: String) async throws -> String {
        try await outbound.write(ByteBuffer(string: request))
        var received = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while received.utf8.count < expecting.utf8.count, ContinuousClock.now < deadline {
            guard var chunk = try await iterator.next() else { break }
            received += chunk.readString(length: chunk.readableBytes) ?? ""
        }
        return received
    }
}
