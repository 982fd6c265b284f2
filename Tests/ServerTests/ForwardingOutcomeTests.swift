import GRPCCore
import GRPCNIOTransportHTTP2Posix
import KV
import Logging
import Raft
@testable import Server
import Synchronization
import Testing
import TestSupport


/// DESIGN §9 on the forwarding path: a follower answers `TRYAGAIN` only when the write cannot have been
/// applied (nothing was sent, or the leader refused before appending) and `AMBIGUOUS` when it may have been
/// (the leader said so, the deadline passed or the connection was lost after the request was sent).
@Suite struct ForwardingOutcomeTests {
    /// A leader stand-in whose answer each test chooses.
    final class ScriptedLeader: RaftForwardingHandler {
        enum Behaviour: Sendable {
            case apply
            case refuse(RaftForwardingRefusal)
            /// Signals that the request arrived, then never answers.
            case hang
            /// Applies the warm-up payload (``ForwardingOutcomeTests/warmUp``) and hangs on any other.
            case applyWarmUpHangOtherwise
        }

        let behaviour: Behaviour
        let received = Atomic<Int>(0)

        init(_ behaviour: Behaviour) { self.behaviour = behaviour }

        func forward(payload: [UInt8]) async -> ForwardResult {
            let isWarmUp = payload == ForwardingOutcomeTests.warmUp
            if !isWarmUp { received.add(1, ordering: .relaxed) }
            switch behaviour {
            case .apply: return .applied(index: 5, term: 1, result: CommandResultCodec.encode([.ok]))
            case .applyWarmUpHangOtherwise where isWarmUp:
                return .applied(index: 5, term: 1, result: CommandResultCodec.encode([.ok]))
            case .refuse(let refusal): return .refused(refusal)
            case .hang, .applyWarmUpHangOtherwise:
                try? await Task.sleep(for: .seconds(60))
                return .refused(RaftForwardingRefusal(reason: "TRYAGAIN late"))
            }
        }

        func readIndex() async -> ReadIndexResult { .index(1) }
    }

    /// Runs a gRPC server answering `Forward` with `leader`, and a forwarder pointed at it.
    static func withLeader(
        _ leader: ScriptedLeader, requestTimeout: Duration = .seconds(10),
        _ body: (GRPCProposalForwarder, GRPCServer<HTTP2ServerTransport.Posix>, String) async throws -> Void
    ) async throws {
        var logger = Logger(label: "forwarding-outcome")
        logger.logLevel = .critical
        let service = RaftTransportService(
            localID: 1, metrics: RaftTransportMetrics(registry: MetricsRegistry()), handler: leader, logger: logger,
            onMessage: { _ in })
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [service])
        let client = RaftForwardingClient(requestTimeout: requestTimeout)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { await client.run() }
            let port = try #require(try await server.transport.listeningAddress.ipv4?.port)
            let address = "127.0.0.1:\(port)"
            let forwarder = GRPCProposalForwarder(client: client) { _ in address }
            do { try await body(forwarder, server, address) } catch {
                client.shutdown()
                server.beginGracefulShutdown()
                group.cancelAll()
                throw error
            }
            client.shutdown()
            server.beginGracefulShutdown()
            group.cancelAll()
        }
    }

    /// A payload the scripted leader answers at once, to open the connection first.
    static let warmUp: [UInt8] = [0x00, 0xFF]

    static func outcome(_ forwarder: GRPCProposalForwarder, payload: [UInt8] = [0x00, 1, 2]) async
        -> Result<[CommandResult], BackendError>
    {
        do throws(BackendError) { return .success(try await forwarder.forward(payload, to: 1)) } catch {
            return .failure(error)
        }
    }

    @Test func anAppliedWriteReturnsTheLeadersResults() async throws {
        try await Self.withLeader(ScriptedLeader(.apply)) { forwarder, _, _ in
            #expect(await Self.outcome(forwarder) == .success([.ok]))
        }
    }

    @Test func aLeaderRefusalBeforeAppendingIsDefinite() async throws {
        let refusal = RaftForwardingRefusal(reason: "TRYAGAIN writes are held while the raft envelope is switched on")
        try await Self.withLeader(ScriptedLeader(.refuse(refusal))) { forwarder, _, _ in
            guard case .failure(let error) = await Self.outcome(forwarder) else {
                Issue.record("a refused write succeeded")
                return
            }
            #expect(!error.outcomeUnknown)
            #expect(error.redisMessage.hasPrefix("TRYAGAIN "))
        }
    }

    @Test func aLeaderThatDoesNotKnowTheOutcomeMakesItAmbiguous() async throws {
        let refusal = RaftForwardingRefusal(reason: BackendError.deadlinePassed.redisMessage)
        try await Self.withLeader(ScriptedLeader(.refuse(refusal))) { forwarder, _, _ in
            guard case .failure(let error) = await Self.outcome(forwarder) else {
                Issue.record("an ambiguous write succeeded")
                return
            }
            #expect(error.outcomeUnknown)
            #expect(error.redisMessage.hasPrefix("AMBIGUOUS "))
        }
    }

    /// (The deadline covers connecting too, so a first call opens the connection; on a starved machine the
    /// answer would otherwise be, correctly, "nothing was sent".)
    @Test func aDeadlinePassedAfterSendingIsAmbiguous() async throws {
        let leader = ScriptedLeader(.applyWarmUpHangOtherwise)
        try await Self.withLeader(leader, requestTimeout: .seconds(3)) { forwarder, _, _ in
            var warmedUp = false
            for _ in 0..<10 where !warmedUp {
                warmedUp = await Self.outcome(forwarder, payload: Self.warmUp) == .success([.ok])
            }
            try #require(warmedUp, "the connection never opened")
            guard case .failure(let error) = await Self.outcome(forwarder) else {
                Issue.record("a write without an answer succeeded")
                return
            }
            #expect(leader.received.load(ordering: .relaxed) == 1, "the request reached the leader")
            #expect(error.outcomeUnknown, "\(error)")
        }
    }

    @Test func aConnectionLostAfterSendingIsAmbiguous() async throws {
        let leader = ScriptedLeader(.hang)
        var logger = Logger(label: "forwarding-outcome")
        logger.logLevel = .critical
        let service = RaftTransportService(
            localID: 1, metrics: RaftTransportMetrics(registry: MetricsRegistry()), handler: leader, logger: logger,
            onMessage: { _ in })
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [service])
        let serving = Task { try await server.serve() }
        let port = try #require(try await server.transport.listeningAddress.ipv4?.port)
        let client = RaftForwardingClient(requestTimeout: .seconds(20))
        let running = Task { await client.run() }
        let forwarder = GRPCProposalForwarder(client: client) { _ in "127.0.0.1:\(port)" }
        async let answer = Self.outcome(forwarder)
        let deadline = ContinuousClock.now + .seconds(10)
        while leader.received.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(leader.received.load(ordering: .relaxed) == 1, "the request reached the leader")
        // The leader's process goes away with the request in flight: the server stops at once, closing the
        // connection under the call.
        serving.cancel()
        let result = await answer
        client.shutdown()
        running.cancel()
        _ = try? await serving.value
        guard case .failure(let error) = result else {
            Issue.record("a write whose connection was lost succeeded")
            return
        }
        #expect(error.outcomeUnknown, "\(error)")
    }

    @Test func aLeaderThatCannotBeReachedIsDefinite() async throws {
        // A port that was free a moment ago: nothing listens there, so nothing can be sent.
        let client = RaftForwardingClient(requestTimeout: .seconds(5))
        let address = "127.0.0.1:\(try TestPorts.one())"
        let forwarder = GRPCProposalForwarder(client: client) { _ in address }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let result = await Self.outcome(forwarder)
            client.shutdown()
            group.cancelAll()
            guard case .failure(let error) = result else {
                Issue.record("a write to an unreachable leader succeeded")
                return
            }
            #expect(!error.outcomeUnknown, "\(error)")
            #expect(error.redisMessage.hasPrefix("TRYAGAIN "))
        }
    }

    @Test func aDefiniteRefusalNamingAnotherLeaderIsFollowedOnce() async throws {
        try await Self.withLeader(ScriptedLeader(.apply)) { _, _, realLeader in
            let refusal = RaftForwardingRefusal(reason: "TRYAGAIN this node is not the leader", leaderID: 2,
                                                leaderAddress: realLeader)
            try await Self.withLeader(ScriptedLeader(.refuse(refusal))) { forwarder, _, _ in
                #expect(await Self.outcome(forwarder) == .success([.ok]))
            }
        }
    }

    @Test(arguments: [
        ("AMBIGUOUS the deadline passed", true), ("AMBIGUOUS", true), ("TRYAGAIN retry", false),
        ("CLUSTERDOWN no leader", false), ("ERR node unavailable: halted", false), ("AMBIGUOUSLY", false),
    ])
    func refusalsReadTheirCodeWord(reason: String, unknown: Bool) {
        #expect(RaftForwardingRefusal(reason: reason).outcomeUnknown == unknown)
    }
}
