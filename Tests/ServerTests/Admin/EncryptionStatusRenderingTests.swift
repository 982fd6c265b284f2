@testable import ControlPlane
import Encryption
import Foundation
import GRPCCore
import Testing

@testable import Server

@Suite struct EncryptionStatusRenderingTests {
    static let older = EncryptionCapability(
        nodeName: "n2", fullNodeID: 0x0A0B_0C0D_0E0F_0102, encryptionCapable: false, buildID: "elastickv 0.0.9",
        sidecarPresent: false, localEpoch: 0)

    static let threeNodes = EncryptionStatusReport(
        stateAddress: "127.0.0.1:50051", state: .phaseTwo,
        nodes: [
            .init(nodeID: "n1", address: "127.0.0.1:50051", answer: .capability(FakeEncryptionControl.capable)),
            .init(nodeID: "n2", address: "127.0.0.1:50052", answer: .capability(older)),
            .init(nodeID: "n3", address: "127.0.0.1:50053", answer: .unreachable("UNAVAILABLE: connection refused")),
        ])

    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func jsonHasTheDocumentedSummaryKeys() throws {
        let document = try Self.object(EncryptionStatusRendering.json(Self.threeNodes))
        #expect(
            Set(document.keys) == [
                "state_addr", "encryption_enabled", "raft_applied_index", "storage_envelope_active",
                "raft_envelope_cutover_index", "active", "keys", "registry", "nodes", "kek_providers",
            ])
        #expect(document["state_addr"] as? String == "127.0.0.1:50051")
        #expect(document["encryption_enabled"] as? Bool == true)
        #expect(document["raft_applied_index"] as? Int == 57)
        #expect(document["storage_envelope_active"] as? Bool == true)
        #expect(document["raft_envelope_cutover_index"] as? Int == 55)
        let active = try #require(document["active"] as? [String: Any])
        #expect(active["storage"] as? Int == 305_419_896)
        #expect(active["raft"] as? Int == 2_596_069_104)
    }

    @Test func jsonListsKeysAndRegistryWithoutWrappedBytes() throws {
        let json = EncryptionStatusRendering.json(Self.threeNodes)
        let document = try Self.object(json)
        let keys = try #require(document["keys"] as? [[String: Any]])
        #expect(keys.map { Set($0.keys) } == Array(repeating: ["id", "purpose", "created", "local_epoch", "keks"], count: 3))
        #expect(keys.map { $0["keks"] as? [String] } == [[], ["0123456789abcdef", "aws-kms:alias/ekv"], []])
        let providers = try #require(document["kek_providers"] as? [[String: Any]])
        #expect(providers.map { Set($0.keys) } == Array(repeating: [
            "kek_id", "scheme", "primary", "state", "consecutive_failures", "last_error"], count: 2))
        #expect(providers.compactMap { $0["state"] as? String } == ["up", "circuit-open"])
        #expect(providers[0]["last_error"] is NSNull)
        #expect(keys.compactMap { $0["id"] as? Int } == [7, 305_419_896, 2_596_069_104])
        #expect(keys.compactMap { $0["purpose"] as? String } == ["storage", "storage", "raft"])
        #expect(keys.compactMap { $0["created"] as? String }.first == "2025-01-02T03:04:05Z")
        #expect(keys.compactMap { $0["local_epoch"] as? Int } == [1, 3, 3])
        #expect(!json.contains("wrapped"))
        for byte: UInt8 in [0xA1, 0xB2, 0xC3] {
            #expect(!json.contains(Data(repeating: byte, count: 40).base64EncodedString()))
        }
        let registry = try #require(document["registry"] as? [[String: Any]])
        #expect(registry.count == 2)
        #expect(
            Set(registry[0].keys) == [
                "key_id", "node16", "full_node_id", "first_seen_local_epoch", "last_seen_local_epoch",
            ])
        #expect(registry[0]["node16"] as? Int == 0x5678)
        #expect(registry[0]["first_seen_local_epoch"] as? Int == 2)
        #expect(registry[0]["last_seen_local_epoch"] as? Int == 3)
        #expect(json.contains(#""full_node_id" : 14627392578676610680"#))
    }

    @Test func jsonNodesAlwaysCarryEveryKeyAndNullsForUnreachableMembers() throws {
        let document = try Self.object(EncryptionStatusRendering.json(Self.threeNodes))
        let nodes = try #require(document["nodes"] as? [[String: Any]])
        let keys: Set<String> = [
            "node_id", "addr", "reachable", "encryption_capable", "sidecar_present", "local_epoch", "full_node_id",
            "build_id", "kek_check", "error",
        ]
        #expect(nodes.map { Set($0.keys) } == [keys, keys, keys])
        #expect(nodes.compactMap { $0["node_id"] as? String } == ["n1", "n2", "n3"])
        #expect(nodes.compactMap { $0["reachable"] as? Bool } == [true, true, false])
        #expect(nodes.compactMap { $0["encryption_capable"] as? Bool } == [true, false])
        #expect(nodes.compactMap { $0["sidecar_present"] as? Bool } == [true, false])
        #expect(nodes.compactMap { $0["local_epoch"] as? Int } == [3, 0])
        #expect(nodes.compactMap { $0["build_id"] as? String } == ["elastickv 0.1.0 (envelope v1)", "elastickv 0.0.9"])
        #expect(nodes[0]["error"] is NSNull)
        #expect(nodes[2]["addr"] as? String == "127.0.0.1:50053")
        #expect(nodes[2]["error"] as? String == "UNAVAILABLE: connection refused")
        for key in ["encryption_capable", "sidecar_present", "local_epoch", "full_node_id", "build_id", "kek_check"] {
            #expect(nodes[2][key] is NSNull, "\(key) of an unreachable member")
        }
    }

    @Test func jsonWritesZeroForAbsentKeysAndCutover() throws {
        let report = EncryptionStatusReport(stateAddress: "h:1", state: .beforeBootstrap, nodes: [])
        let document = try Self.object(EncryptionStatusRendering.json(report))
        #expect(document["raft_envelope_cutover_index"] as? Int == 0)
        #expect(document["storage_envelope_active"] as? Bool == false)
        let active = try #require(document["active"] as? [String: Any])
        #expect(active["storage"] as? Int == 0 && active["raft"] as? Int == 0)
        #expect((document["keys"] as? [Any])?.isEmpty == true)
        #expect((document["nodes"] as? [Any])?.isEmpty == true)
    }

    @Test func tableShowsSummaryKeysRegistryAndMembers() {
        let expected = """
            state from                127.0.0.1:50051
            encryption enabled        yes
            storage envelope          active
            raft envelope             active after index 55
            active storage DEK        305419896
            active raft DEK           2596069104
            encryption applied index  57

            KEY ID      PURPOSE  CREATED               LOCAL EPOCH  ACTIVE  KEKS
            7           storage  2025-01-02T03:04:05Z  1            no      -
            305419896   storage  2025-03-01T12:00:00Z  3            yes     0123456789abcdef,aws-kms:alias/ekv
            2596069104  raft     2025-03-01T12:00:00Z  3            yes     -

            KEK                SCHEME   PRIMARY  STATE         FAILURES  LAST ERROR
            0123456789abcdef   file     yes      up            0         -
            aws-kms:alias/ekv  aws-kms  no       circuit-open  5         ErrKEKUnavailable: connection refused

            KEY ID      NODE16  FULL NODE ID          LOCAL EPOCHS
            305419896   22136   14627392578676610680  2-3
            2596069104  258     723685415333069058    1-1

            NODE ID  ADDRESS          REACHABLE  CAPABLE  SIDECAR  LOCAL EPOCH  FULL NODE ID          BUILD
            n1       127.0.0.1:50051  yes        yes      yes      3            14627392578676610680  elastickv 0.1.0 (envelope v1)
            n2       127.0.0.1:50052  yes        no       no       0            723685415333069058    elastickv 0.0.9
            n3       127.0.0.1:50053  no         -        -        -            -                     -

            unreachable: n3 (127.0.0.1:50053): UNAVAILABLE: connection refused
            """
        #expect(EncryptionStatusRendering.table(Self.threeNodes) == expected)
    }

    @Test func tableBeforeBootstrapSaysNoneAndInactive() {
        let report = EncryptionStatusReport(stateAddress: "h:1", state: .beforeBootstrap, nodes: [])
        let lines = EncryptionStatusRendering.table(report).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[2] == "storage envelope          inactive")
        #expect(lines[3] == "raft envelope             inactive")
        #expect(lines[4] == "active storage DEK        none")
        #expect(lines[5] == "active raft DEK           none")
        #expect(lines.last == "NODE ID  ADDRESS  REACHABLE  CAPABLE  SIDECAR  LOCAL EPOCH  FULL NODE ID  BUILD")
    }

    @Test func changesPrintTheSummaryAndIndexOrOneJSONObject() {
        let change = EncryptionChange(index: 57, summary: "storage DEK 305419896 is active")
        #expect(change.renderedLine == "storage DEK 305419896 is active (index 57)")
        #expect(change.renderedJSON == #"{"index":57,"summary":"storage DEK 305419896 is active"}"#)
        let nothing = EncryptionChange(index: 0, summary: "the storage envelope is already active")
        #expect(nothing.renderedLine == "the storage envelope is already active (no entry committed)")
        #expect(nothing.renderedJSON == #"{"index":0,"summary":"the storage envelope is already active"}"#)
    }
}
