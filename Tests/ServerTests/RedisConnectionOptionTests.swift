import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import RESP
@testable import Server
import Synchronization
import Testing
import TestSupport

/// Accepted Redis connections get TCP_NODELAY at the TCP level, and a connection whose option cannot be set
/// is still served (the failure is logged once, the listener stays up).
@Suite struct RedisConnectionOptionTests {
    final class WarningCounter: Sendable {
        let count = Mutex(0)
    }

    static func server(logger: Logger, dir: TemporaryDirectory) throws -> RedisServer {
        RedisServer(configuration: .init(host: "127.0.0.1", port: 0), backend: try LocalBackend(path: dir.file("db")),
                    metrics: MetricsRegistry(), logger: logger)
    }

    @Test func acceptedConnectionsHaveNagleOffEvenWhenTheListenerHasItOn() async throws {
        let dir = TemporaryDirectory("redis-nodelay")
        defer { dir.remove() }
        let server = try Self.server(logger: Logger(label: "test"), dir: dir)
        let parser = RESPRequestParser(limits: .init())
        let seen = Mutex<[Int]>([])
        // NIO sets TCP_NODELAY on listeners by default and Linux children inherit it; turn it off on this
        // listener so only the per-connection setting can turn it on.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.tcpOption(.tcp_nodelay), value: 0)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let wrapped = try server.prepareConnection(channel, parser: parser)
                    let value = try channel.syncOptions!.getOption(.tcpOption(.tcp_nodelay))
                    seen.withLock { $0.append(value) }
                    return wrapped
                }
            }
        let port = try #require(listener.channel.localAddress?.port)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        try await listener.executeThenClose { connections in
            for try await connection in connections {
                try await connection.executeThenClose { _, _ in }
                break
            }
        }
        try? await client.close()
        let values = seen.withLock { $0 }
        #expect(values.count == 1)
        #expect(values.allSatisfy { $0 != 0 }, "TCP_NODELAY was \(values) on the accepted connection")
    }

    @Test func aRefusedOptionIsLoggedOnceAndDoesNotThrow() throws {
        let dir = TemporaryDirectory("redis-nodelay-refused")
        defer { dir.remove() }
        let counter = WarningCounter()
        let countingLogger = Logger(label: "test") { _ in CountingWarnings(counter: counter) }
        let server = try Self.server(logger: countingLogger, dir: dir)
        // A closed embedded channel refuses every option, as a kernel refusing TCP_NODELAY would.
        for _ in 0..<3 {
            let channel = EmbeddedChannel()
            channel.allowOptionsWhenClosed = false
            try channel.close().wait()
            server.disableNagle(on: channel)
        }
        #expect(counter.count.withLock { $0 } == 1)
    }
}

/// Counts warning lines in a shared counter.
struct CountingWarnings: LogHandler {
    let counter: RedisConnectionOptionTests.WarningCounter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level == .warning { counter.count.withLock { $0 += 1 } }
    }
}
