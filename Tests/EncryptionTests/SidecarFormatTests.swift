import Encryption
import Testing

@Suite("Sidecar JSON format")
struct SidecarFormatTests {
    static let path = "/data/encryption/keys.json"

    /// The example of DESIGN §3.5 with real base64 in place of the placeholders.
    static let designExample = """
        {
          "version": 1,
          "raft_applied_index": 184273,
          "storage_envelope_active": true,
          "raft_envelope_cutover_index": 184201,
          "active": { "storage": 305419896, "raft": 2596069104 },
          "keys": {
            "305419896":  { "purpose": "storage", "wrapped": "AAECAwQFBgc=",
                            "created": "2026-04-29T10:00:00Z", "local_epoch": 7 },
            "2596069104": { "purpose": "raft", "wrapped": "CAkKCw==",
                            "created": "2026-04-29T10:00:00Z", "local_epoch": 7 }
          }
        }
        """

    static func parse(_ text: String) throws(SidecarError) -> Sidecar {
        try Sidecar(json: Array(text.utf8), path: path)
    }

    /// The example with one substring replaced; the test fails if the substring is absent.
    static func variant(_ target: String, _ replacement: String, sourceLocation: SourceLocation = #_sourceLocation)
        -> String
    {
        #expect(designExample.contains(target), "example lacks \(target)", sourceLocation: sourceLocation)
        return designExample.replacing(target, with: replacement)
    }

    static func expectKind(_ text: String, _ kind: SidecarError.Kind, sourceLocation: SourceLocation = #_sourceLocation)
    {
        #expect(throws: SidecarError(kind, path: path), sourceLocation: sourceLocation) { try parse(text) }
    }

    static func expectMalformed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(text)
            Issue.record("parsed", sourceLocation: sourceLocation)
        } catch {
            guard case .malformedJSON = error.kind else {
                Issue.record("expected malformed JSON, got \(error)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    @Test("the design's example parses field by field")
    func designExampleParses() throws {
        let sidecar = try Self.parse(Self.designExample)
        #expect(sidecar.raftAppliedIndex == 184_273)
        #expect(sidecar.storageEnvelopeActive)
        #expect(sidecar.raftEnvelopeCutoverIndex == 184_201)
        #expect(sidecar.activeKeyIDs == [.storage: 305_419_896, .raft: 2_596_069_104])
        #expect(
            sidecar.keys[305_419_896]
                == Sidecar.Key(
                    purpose: .storage, wrapped: WrappedDEK([0, 1, 2, 3, 4, 5, 6, 7]),
                    created: "2026-04-29T10:00:00Z", localEpoch: 7))
        #expect(sidecar.keys[2_596_069_104]?.wrapped == WrappedDEK([8, 9, 10, 11]))
        #expect(sidecar.bootstrapDigest == nil)
    }

    @Test("with several KEKs a key carries its wraps, primary first, equal to wrapped")
    func wrapsList() throws {
        var sidecar = try Self.parse(Self.designExample)
        let id: KeyID = 305_419_896
        sidecar.keys[id]!.wrapped = WrappedDEK(wraps: [
            KEKWrap(kekID: "0123456789abcdef", bytes: [0, 1, 2, 3, 4, 5, 6, 7]), KEKWrap(kekID: "exec:/kek", bytes: [9]),
        ])
        let bytes = sidecar.encodedJSON()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"kek\" : \"exec:\\/kek\"") || text.contains("\"kek\" : \"exec:/kek\""))
        #expect(try Sidecar(json: bytes, path: Self.path) == sidecar)
        #expect(!String(decoding: try Self.parse(Self.designExample).encodedJSON(), as: UTF8.self).contains("wraps"))
        let mismatched = text.replacingOccurrences(of: "\"wrapped\" : \"AAECAwQFBgc=\",", with: "\"wrapped\" : \"CQ==\",")
        #expect(throws: SidecarError.self) { try Sidecar(json: Array(mismatched.utf8), path: Self.path) }
        let duplicated = text.replacingOccurrences(of: "exec:", with: "").replacingOccurrences(of: "\\/kek", with: "0123456789abcdef")
            .replacingOccurrences(of: "/kek", with: "0123456789abcdef")
        #expect(throws: SidecarError.self) { try Sidecar(json: Array(duplicated.utf8), path: Self.path) }
    }

    @Test("encoding round-trips, is deterministic and uses the normative field names")
    func roundTrip() throws {
        var sidecar = try Self.parse(Self.designExample)
        sidecar.bootstrapDigest = Array(0..<32)
        let bytes = sidecar.encodedJSON()
        #expect(try Sidecar(json: bytes, path: Self.path) == sidecar)
        #expect(sidecar.encodedJSON() == bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        for field in [
            "\"version\" : 1", "\"raft_applied_index\" : 184273", "\"storage_envelope_active\" : true",
            "\"raft_envelope_cutover_index\" : 184201", "\"active\"", "\"storage\" : 305419896",
            "\"raft\" : 2596069104", "\"keys\"", "\"305419896\"", "\"purpose\" : \"storage\"",
            "\"wrapped\" : \"AAECAwQFBgc=\"", "\"created\" : \"2026-04-29T10:00:00Z\"", "\"local_epoch\" : 7",
            "\"bootstrap_sha256\" : \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"",
        ] {
            #expect(text.contains(field), "missing \(field)")
        }
    }

    @Test("before cut-over the index is written as null, and absent or null reads as none")
    func cutoverNull() throws {
        var sidecar = try Self.parse(Self.designExample)
        sidecar.raftEnvelopeCutoverIndex = nil
        let text = String(decoding: sidecar.encodedJSON(), as: UTF8.self)
        #expect(text.contains("\"raft_envelope_cutover_index\" : null"))
        #expect(
            try Self.parse(Self.variant("\"raft_envelope_cutover_index\": 184201,", "")).raftEnvelopeCutoverIndex == nil
        )
        #expect(try Self.parse(Self.variant("184201,", "null,")).raftEnvelopeCutoverIndex == nil)
    }

    @Test("malformed JSON and wrong types are rejected")
    func malformed() {
        for text in [
            "", "{", "[]", "null", "\"keys\"", String(Self.designExample.dropLast(3)),
            Self.variant("184273", "\"184273\""), Self.variant("184273", "-1"), Self.variant("184273", "1.5"),
            Self.variant("true", "1"), Self.variant("\"local_epoch\": 7 }", "\"local_epoch\": -7 }"),
            Self.variant("\"storage\": 305419896", "\"storage\": \"305419896\""),
            Self.variant("\"raft_applied_index\": 184273,", ""),
        ] {
            Self.expectMalformed(text)
        }
        Self.expectKind("{}", .malformedJSON(at: "version"))
    }

    @Test("versions other than 1 are reported as unsupported")
    func versions() {
        Self.expectKind(Self.variant("\"version\": 1", "\"version\": 2"), .unsupportedVersion(2))
        Self.expectKind(Self.variant("\"version\": 1", "\"version\": 0"), .unsupportedVersion(0))
        Self.expectKind("{\"version\": 2, \"whatever\": []}", .unsupportedVersion(2))
    }

    @Test("key ids must be canonical non-zero decimal uint32")
    func keyIDs() {
        for bad in ["abc", "0", "-1", "4294967296", "0305419896", " 305419896", "305419896 ", "+5", ""] {
            Self.expectKind(Self.variant("\"305419896\":", "\"\(bad)\":"), .invalidKeyID)
        }
    }

    @Test("wrapped bytes must be canonical, non-empty base64")
    func base64() {
        for bad in ["AAECAwQFBg!=", "AAECAwQFBgc", "AAE=CAwQFBgc", "", "AAECAwQFBgd=", "AAEC AwQFBgc="] {
            Self.expectKind(Self.variant("AAECAwQFBgc=", bad), .invalidWrappedEncoding(305_419_896))
        }
    }

    @Test("purposes other than storage and raft are rejected in keys and in active")
    func purposes() {
        Self.expectKind(Self.variant("\"purpose\": \"storage\"", "\"purpose\": \"backup\""), .unknownPurpose)
        Self.expectKind(Self.variant("\"purpose\": \"storage\"", "\"purpose\": \"Storage\""), .unknownPurpose)
        Self.expectKind(Self.variant("\"raft\": 2596069104 }", "\"raft\": 2596069104, \"log\": 1 }"), .unknownPurpose)
    }

    @Test("local_epoch above 0xFFFF is rejected and 0xFFFF is accepted")
    func epochs() throws {
        Self.expectKind(
            Self.variant("\"local_epoch\": 7 },\n", "\"local_epoch\": 65536 },\n"),
            .localEpochOutOfRange(305_419_896, 65536))
        let maximum = try Self.parse(Self.variant("\"local_epoch\": 7 },\n", "\"local_epoch\": 65535 },\n"))
        #expect(maximum.keys[305_419_896]?.localEpoch == 0xFFFF)
    }

    @Test("active ids must be non-zero uint32 naming a key of their purpose")
    func activeIDs() {
        Self.expectKind(Self.variant("\"storage\": 305419896", "\"storage\": 0"), .invalidActiveKeyID(.storage))
        Self.expectKind(
            Self.variant("\"storage\": 305419896", "\"storage\": 4294967296"), .invalidActiveKeyID(.storage))
        Self.expectKind(Self.variant("\"storage\": 305419896", "\"storage\": 5"), .activeKeyMissing(.storage, 5))
        Self.expectKind(
            Self.variant("\"storage\": 305419896", "\"storage\": 2596069104"),
            .activeKeyPurposeMismatch(.storage, 2_596_069_104))
    }

    @Test("a cut-over index of 0 or after the applied index, and a bad digest, are rejected")
    func indexesAndDigest() {
        Self.expectKind(Self.variant("184201,", "0,"), .invalidCutoverIndex)
        Self.expectKind(Self.variant("184201,", "184274,"), .invalidCutoverIndex)
        let withDigest = { (digest: String) in
            Self.variant("\"version\": 1,", "\"version\": 1, \"bootstrap_sha256\": \"\(digest)\",")
        }
        Self.expectKind(withDigest("00"), .invalidBootstrapDigest)
        Self.expectKind(withDigest(String(repeating: "g", count: 64)), .invalidBootstrapDigest)
        Self.expectKind(withDigest(String(repeating: "A", count: 64)), .invalidBootstrapDigest)
    }

    @Test(
        "creation timestamps are formatted from the entry's seconds",
        arguments: [
            (UInt64(0), "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"),
            (1_777_456_800, "2026-04-29T10:00:00Z"), (4_107_542_400, "2100-03-01T00:00:00Z"),
            (EntryLimits.maxCreatedUnixSeconds, "9999-12-31T23:59:59Z"),
        ])
    func timestamps(seconds: UInt64, expected: String) {
        #expect(Sidecar.createdTimestamp(unixSeconds: seconds) == expected)
    }
}
