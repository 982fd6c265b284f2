@testable import ControlPlane
import Foundation
import GRPCCore
import Testing

@testable import Server

/// Runs the built `elastickv-admin encryption …` against real Cluster and EncryptionAdmin services on loopback.
@Suite(.enabled(if: AdminBinary.url != nil, "elastickv-admin is not built next to the test bundle"))
struct EncryptionAdminBinaryTests {
    /// Serves both admin services over the fakes and runs `body` with the bound port.
    static func withServer(
        _ encryption: FakeEncryptionControl, cluster: FakeClusterControl = FakeClusterControl(),
        _ body: (Int) async throws -> Void
    ) async throws {
        let services: [any RegistrableRPCService] = [
            ClusterService(control: cluster), EncryptionAdminService(control: encryption),
        ]
        try await AdminTestServer.run(services) { _, port in try await body(port) }
    }

    /// A membership of three: n1 is the test server, n2 has no known address, n3 refuses connections.
    static func members(port: Int) -> ClusterStatus {
        ClusterStatus(
            nodeName: "n1", leaderName: "n1", leaderAddress: "127.0.0.1:\(port)", term: 2, commitIndex: 60,
            appliedIndex: 60,
            members: [
                .init(name: "n1", raftID: 1, address: "127.0.0.1:\(port)", role: .leader),
                .init(name: "n2", raftID: 2, address: "", role: .follower),
                .init(name: "n3", raftID: 3, address: "127.0.0.1:1", role: .follower),
            ])
    }

    @Test func statusJSONPollsEveryMemberWithAnAddress() async throws {
        let encryption = FakeEncryptionControl()
        let cluster = FakeClusterControl()
        try await Self.withServer(encryption, cluster: cluster) { port in
            cluster.state.withLock { $0.status = Self.members(port: port) }
            let result = try await AdminBinary.run(["--addr", "127.0.0.1:\(port)", "--json", "encryption", "status"])
            #expect(result.status == 0)
            #expect(result.stderr.isEmpty)
            let document = try EncryptionStatusRenderingTests.object(result.stdout)
            #expect(document["storage_envelope_active"] as? Bool == true)
            #expect(document["raft_envelope_cutover_index"] as? Int == 55)
            #expect((document["active"] as? [String: Any])?["storage"] as? Int == 305_419_896)
            #expect(!result.stdout.contains("wrapped"))
            let nodes = try #require(document["nodes"] as? [[String: Any]])
            #expect(nodes.compactMap { $0["node_id"] as? String } == ["n1", "n3"])
            #expect(nodes.compactMap { $0["reachable"] as? Bool } == [true, false])
            #expect(nodes[0]["full_node_id"] as? UInt64 == 0xCAFE_F00D_1234_5678)
            #expect(nodes[1]["addr"] as? String == "127.0.0.1:1")
            #expect(nodes[1]["error"] is String)
        }
        #expect(encryption.calls == ["encryptionState all", "capability"])
    }

    @Test func statusTableListsReachableAndUnreachableMembers() async throws {
        let cluster = FakeClusterControl()
        try await Self.withServer(FakeEncryptionControl(), cluster: cluster) { port in
            cluster.state.withLock { $0.status = Self.members(port: port) }
            let result = try await AdminBinary.run(["encryption", "status", "--addr", "127.0.0.1:\(port)"])
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "state from                127.0.0.1:\(port)")
            #expect(lines.contains { $0.hasPrefix("n1") && $0.contains("yes        yes      yes") })
            #expect(lines.contains { $0.hasPrefix("n3       127.0.0.1:1") && $0.contains(" no ") })
            #expect(lines.contains { $0.hasPrefix("unreachable: n3 (127.0.0.1:1): ") })
            #expect(!lines.contains { $0.hasPrefix("n2") })
        }
    }

    @Test func mutatorsPrintTheSummaryAndIndexOrJSON() async throws {
        let encryption = FakeEncryptionControl()
        try await Self.withServer(encryption) { port in
            let addr = "127.0.0.1:\(port)"
            let rotate = try await AdminBinary.run(["--addr", addr, "encryption", "rotate-dek", "--purpose", "raft"])
            #expect(rotate.status == 0)
            #expect(rotate.stdout == "rotateDEK raft done (index 201)\n")
            let retire = try await AdminBinary.run([
                "--addr", addr, "--json", "encryption", "retire-dek", "--key-id", "7",
            ])
            #expect(retire.status == 0)
            #expect(retire.stdout == #"{"index":202,"summary":"retireDEK 7 done"}"# + "\n")
            for command in [
                "bootstrap", "rewrap-deks", "enable-storage-envelope", "enable-raft-envelope", "resync-sidecar",
            ] {
                let result = try await AdminBinary.run(["--addr", addr, "encryption", command])
                #expect(result.status == 0, "\(command): \(result.stderr)")
            }
        }
        #expect(
            encryption.calls == [
                "rotateDEK raft", "retireDEK 7", "bootstrap", "rewrapDEKs", "enableStorageEnvelope",
                "enableRaftEnvelope", "resyncSidecar",
            ])
    }

    @Test func aFollowerNamesTheLeaderAndExitsThree() async throws {
        let encryption = FakeEncryptionControl()
        encryption.fail(with: .notLeader(leaderAddress: "10.1.2.3:50051"))
        try await Self.withServer(encryption) { port in
            let result = try await AdminBinary.run(["--addr", "127.0.0.1:\(port)", "encryption", "bootstrap"])
            #expect(result.status == 75)
            #expect(result.stdout.isEmpty)
            #expect(
                result.stderr == "error: FAILED_PRECONDITION: this node is not the leader; the leader is at "
                    + "10.1.2.3:50051 (rerun with --addr 10.1.2.3:50051)\n")
        }
    }

    @Test func aFailedCapabilityCheckPrintsTheServerMessageAndExitsOne() async throws {
        let encryption = FakeEncryptionControl()
        encryption.fail(with: .capabilityCheckFailed(["n3 (unreachable)"]))
        try await Self.withServer(encryption) { port in
            let result = try await AdminBinary.run([
                "--addr", "127.0.0.1:\(port)", "encryption", "enable-storage-envelope",
            ])
            #expect(result.status == 1)
            #expect(
                result.stderr == "error: FAILED_PRECONDITION: ErrCapabilityCheckFailed: not every member is "
                    + "encryption-capable with this KEK: n3 (unreachable)\n")
        }
    }

    @Test func disableSendsNothingAndExitsOne() async throws {
        let encryption = FakeEncryptionControl()
        try await Self.withServer(encryption) { port in
            let result = try await AdminBinary.run(["--addr", "127.0.0.1:\(port)", "encryption", "disable"])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == AdminFailure.encryptionDisableRefused.line + "\n")
        }
        #expect(encryption.calls.isEmpty)
    }

    @Test(arguments: [
        (["encryption", "retire-dek", "--key-id", "0"], "0 is never a key id"),
        (["encryption", "rotate-dek", "--purpose", "kek"], "'kek' is not a key purpose"),
        (["encryption", "rotate-dek"], "--purpose"),
    ])
    func invalidArgumentsAreUsageErrors(arguments: [String], message: String) async throws {
        let result = try await AdminBinary.run(["--addr", "127.0.0.1:1"] + arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message))
    }
}
