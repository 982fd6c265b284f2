@testable import ControlPlane
import ElastickvAPI
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

@testable import Server

@Suite struct ClusterServiceTests {
    typealias Cluster = Elastickv_V1_Cluster.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` against a `ClusterService` over `control`, served on an ephemeral loopback port.
    static func withService(
        _ control: FakeClusterControl, _ body: (Cluster) async throws -> Void
    ) async throws {
        try await AdminTestServer.run([ClusterService(control: control)]) { client, _ in
            try await body(Cluster(wrapping: client))
        }
    }

    static func member(_ nodeID: String, addr: String = "") -> Elastickv_V1_MemberRequest {
        var request = Elastickv_V1_MemberRequest()
        request.nodeID = nodeID
        request.addr = addr
        return request
    }

    /// Calls `body`, which must fail with an `RPCError`, and returns that error.
    static func rpcError(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            Issue.record("the call succeeded; an RPCError was expected")
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("expected an RPCError, got \(error)")
            return nil
        }
    }

    @Test func statusCarriesEveryField() async throws {
        try await Self.withService(FakeClusterControl()) { cluster in
            let status = try await cluster.status(.init(), options: AdminTestServer.callOptions)
            #expect(status.nodeID == "n2")
            #expect(status.leader == "n1")
            #expect(status.leaderAddr == "127.0.0.1:50051")
            #expect(status.term == 7)
            #expect(status.commitIndex == 42)
            #expect(status.appliedIndex == 41)
            #expect(status.members.map(\.nodeID) == ["n1", "n2", "n3"])
            #expect(status.members.map(\.raftID) == [1, 2, 3])
            #expect(status.members.map(\.addr) == ["127.0.0.1:50051", "127.0.0.1:50052", "127.0.0.1:50053"])
            #expect(status.members.map(\.role) == ["leader", "follower", "learner"])
        }
    }

    @Test func statusWithoutLeaderLeavesLeaderFieldsEmpty() async throws {
        var alone = FakeClusterControl.threeNodes
        alone.leaderName = nil
        alone.leaderAddress = nil
        try await Self.withService(FakeClusterControl(status: alone)) { cluster in
            let status = try await cluster.status(.init(), options: AdminTestServer.callOptions)
            #expect(status.leader.isEmpty)
            #expect(status.leaderAddr.isEmpty)
            #expect(status.nodeID == "n2")
        }
    }

    @Test func mutationsReachTheNodeAndReturnTheEntryIndex() async throws {
        let control = FakeClusterControl()
        try await Self.withService(control) { cluster in
            let options = AdminTestServer.callOptions
            let added = try await cluster.addLearner(Self.member("n4", addr: "127.0.0.1:50054"), options: options)
            let promoted = try await cluster.promote(Self.member("n4"), options: options)
            let removed = try await cluster.remove(Self.member("n3"), options: options)
            let transferred = try await cluster.transferLeader(Self.member("n2"), options: options)
            #expect([added.index, promoted.index, removed.index] == [101, 102, 103])
            #expect(transferred.index == 0)
            for response in [added, promoted, removed, transferred] {
                #expect(response.error.isEmpty && response.leaderAddr.isEmpty)
            }
        }
        #expect(control.calls == ["addLearner n4 127.0.0.1:50054", "promote n4", "remove n3", "transferLeader n2"])
    }

    @Test func notLeaderIsFailedPreconditionNamingTheLeader() async throws {
        let control = FakeClusterControl()
        control.fail(with: .notLeader(leaderAddress: "10.1.2.3:50051"))
        try await Self.withService(control) { cluster in
            for call in Self.everyMutation(cluster) {
                let error = try #require(await Self.rpcError(call))
                #expect(error.code == .failedPrecondition)
                #expect(error.message.contains("10.1.2.3:50051"))
                #expect(Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]) == ["10.1.2.3:50051"])
            }
        }
        #expect(control.calls.count == 4)
    }

    @Test(arguments: [
        (ClusterControlError.notLeader(leaderAddress: nil), RPCError.Code.unavailable, "no leader is known"),
        (.unknownMember("n9"), .notFound, "no member named 'n9'"),
        (.alreadyMember("n4"), .alreadyExists, "'n4' is already a member"),
        (.changeInProgress, .unavailable, "still in progress"),
        (.timeout, .deadlineExceeded, "timed out"),
        (.rejected("a learner cannot receive leadership"), .failedPrecondition, "a learner cannot receive leadership"),
    ])
    func refusalsMapToStatusCodes(failure: ClusterControlError, code: RPCError.Code, message: String) async throws {
        let control = FakeClusterControl()
        control.fail(with: failure)
        try await Self.withService(control) { cluster in
            for call in Self.everyMutation(cluster) {
                let error = try #require(await Self.rpcError(call))
                #expect(error.code == code)
                #expect(error.message.contains(message))
                #expect(Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]).isEmpty)
            }
        }
    }

    @Test func missingFieldsAreInvalidArgumentsAndNeverReachTheNode() async throws {
        let control = FakeClusterControl()
        try await Self.withService(control) { cluster in
            let options = AdminTestServer.callOptions
            let noAddress = await Self.rpcError {
                _ = try await cluster.addLearner(Self.member("n4"), options: options)
            }
            #expect(noAddress?.code == .invalidArgument)
            #expect(noAddress?.message.contains("addr") == true)
            for call in Self.everyMutation(cluster, nodeID: "") {
                let error = try #require(await Self.rpcError(call))
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("node_id"))
            }
        }
        #expect(control.calls.isEmpty)
    }

    /// One call of each mutating RPC about `nodeID`.
    static func everyMutation(_ cluster: Cluster, nodeID: String = "n4") -> [() async throws -> Void] {
        let options = AdminTestServer.callOptions
        return [
            { _ = try await cluster.addLearner(member(nodeID, addr: "127.0.0.1:50054"), options: options) },
            { _ = try await cluster.promote(member(nodeID), options: options) },
            { _ = try await cluster.remove(member(nodeID), options: options) },
            { _ = try await cluster.transferLeader(member(nodeID), options: options) },
        ]
    }
}
