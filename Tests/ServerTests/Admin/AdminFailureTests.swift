@testable import ControlPlane
import GRPCCore
import Testing

@testable import Server

@Suite struct AdminFailureTests {
    @Test func nothingAnsweringIsOneLineNamingTheAddressAndWhatAddrIs() {
        let classify: (RPCError) -> AdminFailure = { AdminFailure($0) }
        let refused = AdminFailure.connecting(
            to: "127.0.0.1:1", defaultAddress: "127.0.0.1:50051",
            error: RPCError(code: .unavailable, message: "Could not establish a connection to [ipv4]127.0.0.1:1."),
            classify: classify)
        #expect(refused.exitStatus == .unavailable)
        #expect(refused.code == "UNAVAILABLE")
        #expect(refused.line.hasPrefix("error: UNAVAILABLE: no node answers at 127.0.0.1:1 (Could not establish"))
        #expect(refused.line.hasSuffix("--addr names a running node's --grpc-addr (default 127.0.0.1:50051)"))
        // A node that answers UNAVAILABLE itself keeps its own message.
        let answered = AdminFailure.connecting(
            to: "127.0.0.1:50051", defaultAddress: "127.0.0.1:50051",
            error: RPCError(code: .unavailable, message: "another membership change is in progress"),
            classify: classify)
        #expect(answered.line == "error: UNAVAILABLE: another membership change is in progress")
    }

    @Test func notLeaderNamesTheLeaderAndExitsWithItsOwnStatus() {
        let failure = AdminFailure(RPCError(ClusterControlError.notLeader(leaderAddress: "10.0.0.1:50051")))
        #expect(failure.exitStatus == .temporaryFailure)
        #expect(failure.exitStatus.rawValue == 75)
        #expect(
            failure.line == "error: FAILED_PRECONDITION: this node is not the leader; the leader is at "
                + "10.0.0.1:50051 (rerun with --addr 10.0.0.1:50051)")
    }

    @Test func otherFailuresAreRetryableOrNot() {
        let busy = AdminFailure(RPCError(ClusterControlError.changeInProgress))
        #expect(busy.exitStatus == .unavailable)
        #expect(busy.exitStatus.rawValue == 69)
        #expect(busy.line.hasPrefix("error: UNAVAILABLE: another membership change"))
        #expect(AdminFailure(RPCError(ClusterControlError.timeout)).exitStatus == .temporaryFailure)
        let unknown = AdminFailure(RPCError(ClusterControlError.unknownMember("n9")))
        #expect(unknown.exitStatus == .failure)
        #expect(unknown.line == "error: NOT_FOUND: no member named 'n9'")
        let rejected = AdminFailure(RPCError(ClusterControlError.rejected("cannot remove the last voter")))
        #expect(rejected.exitStatus == .failure)
        #expect(rejected.line == "error: FAILED_PRECONDITION: cannot remove the last voter")
    }

    @Test(arguments: [
        ("127.0.0.1:50051", "127.0.0.1", 50051),
        ("node-1.example:7000", "node-1.example", 7000),
        ("[::1]:50051", "::1", 50051),
    ])
    func addressesParse(text: String, host: String, port: Int) throws {
        let address = try AdminAddress(parsing: text)
        #expect(address.host == host && address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: ["", "127.0.0.1", ":50051", "host:0", "host:65536", "host:port", "[::1", "[]:1"])
    func malformedAddressesAreRefused(text: String) {
        #expect(throws: AdminAddress.ParseError(input: text)) { try AdminAddress(parsing: text) }
    }

    @Test func leadingGlobalsAreSplitFromTheSubcommand() throws {
        let arguments = ["--addr", "10.0.0.1:1", "--json", "--timeout=5", "cluster", "add-learner", "--addr", "x:2"]
        let (globals, remaining) = try AdminGlobalArguments.split(arguments)
        #expect(globals == AdminGlobalArguments(address: "10.0.0.1:1", json: true, timeoutSeconds: 5))
        #expect(remaining == ["cluster", "add-learner", "--addr", "x:2"])
        let (none, all) = try AdminGlobalArguments.split(["cluster", "status", "--json"])
        #expect(none == AdminGlobalArguments())
        #expect(all == ["cluster", "status", "--json"])
        #expect(try AdminGlobalArguments.split(["--addr=h:1", "--help"]).remaining == ["--help"])
    }

    @Test func leadingGlobalsWithoutValuesAreRefused() {
        #expect(throws: AdminGlobalArguments.UsageError.self) { try AdminGlobalArguments.split(["--addr"]) }
        #expect(throws: AdminGlobalArguments.UsageError.self) { try AdminGlobalArguments.split(["--timeout", "0"]) }
    }
}
