@testable import ControlPlane
import ElastickvAPI
import Foundation
import Testing

@testable import Server

@Suite struct ClusterStatusRenderingTests {
    static let threeNodes = Elastickv_V1_StatusResponse(FakeClusterControl.threeNodes)

    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func jsonHasTheDocumentedKeysAndValues() throws {
        let document = try Self.object(ClusterStatusRendering.json(Self.threeNodes))
        #expect(
            Set(document.keys) == [
                "node_id", "leader", "leader_addr", "term", "commit_index", "applied_index", "members",
            ])
        #expect(document["node_id"] as? String == "n2")
        #expect(document["leader"] as? String == "n1")
        #expect(document["leader_addr"] as? String == "127.0.0.1:50051")
        #expect(document["term"] as? Int == 7)
        #expect(document["commit_index"] as? Int == 42)
        #expect(document["applied_index"] as? Int == 41)
        let members = try #require(document["members"] as? [[String: Any]])
        #expect(members.map { Set($0.keys) } == Array(repeating: ["node_id", "raft_id", "addr", "role"], count: 3))
        #expect(members.compactMap { $0["node_id"] as? String } == ["n1", "n2", "n3"])
        #expect(members.compactMap { $0["raft_id"] as? Int } == [1, 2, 3])
        #expect(
            members.compactMap { $0["addr"] as? String } == [
                "127.0.0.1:50051", "127.0.0.1:50052", "127.0.0.1:50053",
            ])
        #expect(members.compactMap { $0["role"] as? String } == ["leader", "follower", "learner"])
    }

    @Test func jsonLeaderIsAnEmptyStringWhenUnknown() throws {
        var status = Self.threeNodes
        status.leader = ""
        status.leaderAddr = ""
        let document = try Self.object(ClusterStatusRendering.json(status))
        #expect(document["leader"] as? String == "")
        #expect(document["leader_addr"] as? String == "")
    }

    @Test func tableAlignsTheSummaryAndTheMembers() {
        let expected = """
            node           n2
            leader         n1 (127.0.0.1:50051)
            term           7
            commit index   42
            applied index  41

            NODE ID  RAFT ID  ADDRESS          ROLE
            n1       1        127.0.0.1:50051  leader
            n2       2        127.0.0.1:50052  follower
            n3       3        127.0.0.1:50053  learner
            """
        #expect(ClusterStatusRendering.table(Self.threeNodes) == expected)
    }

    @Test func tableSaysWhenTheLeaderIsUnknown() {
        var status = Self.threeNodes
        status.leader = ""
        status.leaderAddr = ""
        status.members = []
        let lines = ClusterStatusRendering.table(status).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1] == "leader         (unknown)")
        #expect(lines.last == "NODE ID  RAFT ID  ADDRESS  ROLE")
    }

    @Test func changesPrintOneLineOrOneJSONObject() throws {
        var response = Elastickv_V1_ChangeResponse()
        response.index = 17
        let add = ClusterChange.addLearner(nodeID: "n4", address: "127.0.0.1:50054")
        #expect(add.summary(response) == "added learner n4 (127.0.0.1:50054) at index 17")
        #expect(
            add.json(response) == #"{"addr":"127.0.0.1:50054","index":17,"node_id":"n4","operation":"add-learner"}"#)
        #expect(add.request.nodeID == "n4" && add.request.addr == "127.0.0.1:50054")
        #expect(ClusterChange.promote(nodeID: "n4").summary(response) == "promoted n4 to voter at index 17")
        let remove = ClusterChange.remove(nodeID: "n3")
        #expect(remove.json(response) == #"{"index":17,"node_id":"n3","operation":"remove"}"#)
        let transfer = ClusterChange.transferLeader(nodeID: "n2")
        #expect(transfer.summary(response) == "leadership transferred to n2")
        #expect(transfer.json(response) == #"{"node_id":"n2","operation":"transfer-leader"}"#)
        #expect(transfer.request.addr.isEmpty)
    }
}
