import ControlPlane
import Encryption
import Foundation
import Testing

/// `encryption policy show|set`: durations as operators write them, and what `show` prints.
@Suite struct RotationPolicyRenderingTests {
    @Test(arguments: [("off", UInt64(0)), ("0", 0), ("45", 45), ("45s", 45), ("30m", 1800), ("12h", 43_200),
                      ("90d", 7_776_000), ("90D", 7_776_000), ("36600d", RotationPolicy.maximumRotateAfterSeconds)])
    func durationsParse(text: String, seconds: UInt64) {
        #expect(RotationPolicyRendering.seconds(ofDuration: text) == seconds)
    }

    @Test(arguments: ["", "d", "-1d", "1.5h", "1w", "1 d", "36601d", "18446744073709551615d", "１d", "never"])
    func malformedDurationsDoNotParse(text: String) {
        #expect(RotationPolicyRendering.seconds(ofDuration: text) == nil)
    }

    @Test func durationsPrintInTheirLargestWholeUnitAndParseBack() {
        for seconds: UInt64 in [0, 1, 59, 60, 61, 3600, 5400, 86_400, 7_776_000, 90_061] {
            let text = RotationPolicyRendering.duration(seconds: seconds)
            #expect(RotationPolicyRendering.seconds(ofDuration: text) == seconds, "\(text)")
        }
        #expect(RotationPolicyRendering.duration(seconds: 7_776_000) == "90d")
        #expect(RotationPolicyRendering.duration(seconds: 5400) == "90m")
    }

    static func status(policy: RotationPolicy?) -> EncryptionStatus {
        EncryptionStatus(
            encryptionEnabled: true, raftAppliedIndex: 9, storageEnvelopeActive: true, raftEnvelopeCutoverIndex: 8,
            activeStorageKeyID: 11, activeRaftKeyID: 12,
            keys: [
                .init(keyID: 10, purpose: .storage, wrapped: [1], created: "2026-12-01T00:00:00Z", localEpoch: 1,
                      sealCount: 999),
                .init(keyID: 11, purpose: .storage, wrapped: [1], created: "2026-12-07T00:00:00Z", localEpoch: 1,
                      sealCount: 100),
                .init(keyID: 12, purpose: .raft, wrapped: [1], created: "2026-12-07T12:00:00Z", localEpoch: 1,
                      sealCount: 40),
            ],
            registry: [], rotationPolicy: policy, memberCount: 3)
    }

    static let now = Sidecar.unixSeconds(ofCreated: "2026-12-08T00:00:00Z")!

    @Test func showPrintsThePolicyAndTheUseOfEachActiveKey() {
        let text = RotationPolicyRendering.text(
            Self.status(policy: RotationPolicy(rotateAfterSeconds: 30 * 86_400, rotateAfterSeals: 5000)),
            nowUnixSeconds: Self.now)
        #expect(text == """
            rotation policy (set): rotate a DEK 30d after its creation, after 5000 seals cluster-wide; a \
            registered local epoch of 65280 or more always rotates
            active storage DEK 11: created 2026-12-07T00:00:00Z (1d ago), 300 seals cluster-wide (100 on this \
            replica, 3 members)
            active raft DEK 12: created 2026-12-07T12:00:00Z (12h ago), 40 seals cluster-wide (40 on this \
            replica, 3 members)
            """)
        #expect(RotationPolicyRendering.text(Self.status(policy: nil), nowUnixSeconds: Self.now)
            .hasPrefix("rotation policy (default, never set): rotate a DEK never by age, after 1073741824 seals"))
    }

    @Test func showAsJSONCarriesTheSameFacts() throws {
        let json = RotationPolicyRendering.json(Self.status(policy: nil), nowUnixSeconds: Self.now)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let policy = try #require(document["rotation_policy"] as? [String: Any])
        #expect(policy["rotate_after_seconds"] as? Int == 0)
        #expect(policy["rotate_after_seals"] as? Int == 1 << 30)
        #expect(policy["set"] as? Bool == false)
        #expect(policy["rewrite_after_rotate"] as? Bool == false)
        #expect(document["member_count"] as? Int == 3)
        let keys = try #require(document["active_keys"] as? [[String: Any]])
        #expect(keys.map { $0["key_id"] as? Int } == [11, 12])
        #expect(keys.map { $0["cluster_seal_count"] as? Int } == [300, 40])
        #expect(keys.map { $0["age_seconds"] as? Int } == [86_400, 43_200])
    }
}

/// `encryption key-usage`: which DEKs are retirable, and why one is not.
@Suite struct KeyUsageRenderingTests {
    typealias Key = KeyUsageReport.Key

    static func report(_ node: String, _ keys: [Key]) -> KeyUsageRendering.Answer {
        ("127.0.0.1:1", .success(KeyUsageReport(nodeName: node, snapshotIndex: 10, logFirstIndex: 11, logLastIndex: 20,
                                                 keys: keys)))
    }

    static func key(_ id: KeyID, _ purpose: KeyPurpose = .storage, active: Bool = false, stored: UInt64 = 0,
                    log: UInt64 = 0, snapshot: UInt64 = 0) -> Key {
        Key(keyID: id, purpose: purpose, isActive: active, storedVersions: stored, logEntries: log,
            snapshotVersions: snapshot)
    }

    @Test func aKeyIsRetirableOnlyWhenNoMemberNeedsIt() {
        let answers = [
            Self.report("n1", [Self.key(1), Self.key(2, active: true), Self.key(3, .raft), Self.key(4), Self.key(5, .index)]),
            Self.report("n2", [Self.key(1), Self.key(2, active: true), Self.key(3, .raft, log: 7), Self.key(4, snapshot: 2),
                               Self.key(5, .index)]),
        ]
        #expect(KeyUsageRendering.retirable(answers) == [1])
        #expect(KeyUsageRendering.retirable(answers + [("127.0.0.1:2", .failure(MemberUnreachable("refused")))]).isEmpty)
        #expect(Self.key(3, .raft, log: 7).neededBecause(node: "n2")?.contains("cluster snapshot") == true)
        #expect(Self.key(4, stored: 1).neededBecause(node: "n2")?.contains("encryption rewrite --wait") == true)
        #expect(Self.key(4, snapshot: 2).neededBecause(node: "n2")?.contains("newest snapshot") == true)
        #expect(Self.key(2, active: true).neededBecause(node: "n1")?.contains("rotate it first") == true)
        #expect(Self.key(5, .index).neededBecause(node: "n1")?.contains("never retired") == true)
        let table = KeyUsageRendering.table(answers)
        #expect(table.hasSuffix("retirable: 1"))
        #expect(table.split(separator: "\n").count == 12)
    }
}
