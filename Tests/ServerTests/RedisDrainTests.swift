import KV
import NIOCore
import NIOPosix
import RESP
import RedisCommands
@testable import Server
import Synchronization
import Testing

/// Shutdown drains the Redis listener: idle connections close at once, a request being executed is answered
/// before its connection closes, nothing new is executed, and the wait is bounded.
@Suite(.timeLimit(.minutes(1))) struct RedisDrainTests {
    /// Holds every write until `release()`; counts the writes it was asked to execute.
    final class GatedBackend: RedisBackend {
        let executed = Atomic<Int>(0)
        let released = Atomic<Bool>(false)

        func release() { released.store(true, ordering: .relaxed) }

        func execute(_ command: Command) async throws(BackendError) -> CommandResult {
            executed.add(1, ordering: .relaxed)
            let deadline = ContinuousClock.now + .seconds(20)
            while !released.load(ordering: .relaxed), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            return .ok
        }

        func read(_ command: ReadCommand) async throws(BackendError) -> RESPValue { .null }
        func watch(_ keys: [[UInt8]], database: UInt8) async throws(BackendError) -> [TransactionEntry.Watch] { [] }
        func execute(_ transaction: TransactionEntry) async throws(BackendError) -> [RESPValue]? { [] }
        func nowMillis() -> UInt64 { 0 }
        func info() -> String { "" }
        let applied = ApplySignal()
        let scripts = RunningScripts()
        func keys(_ keys: [[UInt8]], holding type: String, database: UInt8) -> [[UInt8]] { [] }
        func readLocal(_ command: ReadCommand) throws(BackendError) -> RESPValue { .null }
        func serverState() -> NodeServerState { NodeServerState(isLeader: true, commitIndex: 0, appliedIndex: 0) }
        func snapshot() async throws(BackendError) {}
    }

    typealias Client = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(_ port: Int) async throws -> Client {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try Client(wrappingChannelSynchronously: channel) }
            }
    }

    /// Everything the server sends until it closes the connection (bounded in time).
    static func readToClose(_ client: Client) async throws -> String {
        try await client.executeThenClose { inbound, _ in
            var received = ""
            var iterator = inbound.makeAsyncIterator()
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, var chunk = try await iterator.next() {
                received += chunk.readString(length: chunk.readableBytes) ?? ""
            }
            return received
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }

    @Test func aRequestBeingExecutedIsAnsweredIdleConnectionsCloseAndNothingNewRuns() async throws {
        let backend = GatedBackend()
        try await RedisServerTests.withListener(backend: backend, maxValueBytes: 64 << 20) { server, port in
            let busy = try await Self.connect(port)
            let idle = try await Self.connect(port)
            // A write that is executing, and a second one pipelined behind it on the same connection.
            try await busy.outbound.write(ByteBuffer(string: "SET k v\r\nSET k w\r\n"))
            try await Self.waitUntil { backend.executed.load(ordering: .relaxed) == 1 }
            try await Self.waitUntil { server.connections.remaining.count == 2 }

            async let drained = server.drain(within: .seconds(10))
            let idleReply = try await Self.readToClose(idle)
            #expect(idleReply.isEmpty, "the idle connection is closed without a reply")
            // The listener is closed: a new connection is refused, or (accepted just before) closed unserved.
            if let late = try? await Self.connect(port) {
                try? await late.outbound.write(ByteBuffer(string: "PING\r\n"))
                #expect(try await Self.readToClose(late).isEmpty, "a connection made during the drain was served")
            }
            backend.release()
            #expect(try await Self.readToClose(busy) == "+OK\r\n", "the executing write is answered, then closed")
            #expect(await drained == 0)
            #expect(backend.executed.load(ordering: .relaxed) == 1, "the pipelined request is never executed")
        }
    }

    @Test func theDrainIsBoundedAndClosesWhatIsStillExecuting() async throws {
        let backend = GatedBackend()
        try await RedisServerTests.withListener(backend: backend, maxValueBytes: 64 << 20) { server, port in
            let busy = try await Self.connect(port)
            try await busy.outbound.write(ByteBuffer(string: "SET k v\r\n"))
            try await Self.waitUntil { backend.executed.load(ordering: .relaxed) == 1 }
            let started = ContinuousClock.now
            #expect(await server.drain(within: .milliseconds(200)) == 1)
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(200) && waited < .seconds(5), "\(waited)")
            #expect(try await Self.readToClose(busy).isEmpty, "closed without a reply once the time is up")
            backend.release()
        }
    }
}
