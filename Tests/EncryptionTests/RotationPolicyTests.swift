import DurableIO
import Encryption
import TestSupport
import Testing

/// The automatic rotation policy: its decision, its 0x05/0x07 entry, how the applier and the sidecar keep it,
/// and the `created` timestamps its age bound reads.
@Suite struct RotationPolicyTests {
    typealias E = SidecarTestEntries
    static let kek = SidecarTestKEK(generation: 1)

    // MARK: - Decision

    static func use(age: UInt64 = 0, seals: UInt64 = 0, epoch: UInt16 = 0) -> RotationPolicy.KeyUse {
        RotationPolicy.KeyUse(ageSeconds: age, seals: seals, highestLocalEpoch: epoch)
    }

    @Test func aKeyIsDueOnceItReachesEitherBoundAndNotBefore() {
        let policy = RotationPolicy(rotateAfterSeconds: 3600, rotateAfterSeals: 1000)
        #expect(policy.reasonToRotate(Self.use(age: 3599, seals: 999)) == nil)
        #expect(policy.reasonToRotate(Self.use(age: 3600)) == .age(ageSeconds: 3600))
        #expect(policy.reasonToRotate(Self.use(seals: 1000)) == .seals(1000))
        #expect(policy.reasonToRotate(Self.use(age: 9000, seals: 5000)) == .seals(5000))
    }

    @Test func aBoundOfZeroIsOff() {
        let off = RotationPolicy(rotateAfterSeconds: 0, rotateAfterSeals: 0)
        #expect(off.reasonToRotate(Self.use(age: .max, seals: .max)) == nil)
        #expect(RotationPolicy.default.reasonToRotate(Self.use(age: 10 * 365 * 86_400)) == nil)
        #expect(RotationPolicy.default.reasonToRotate(Self.use(seals: 1 << 30)) == .seals(1 << 30))
    }

    @Test(arguments: [UInt16(0xFEFF), 0xFF00, 0xFF01, 0xFFFF])
    func aLocalEpochFrom0xFF00OnAlwaysRotates(epoch: UInt16) {
        let off = RotationPolicy(rotateAfterSeconds: 0, rotateAfterSeals: 0)
        let expected: RotationPolicy.Reason? = epoch >= 0xFF00 ? .localEpoch(epoch) : nil
        #expect(off.reasonToRotate(Self.use(epoch: epoch)) == expected)
        #expect(RotationPolicy.default.reasonToRotate(Self.use(seals: 1 << 31, epoch: epoch)) ?? .seals(1 << 31)
            == (expected ?? .seals(1 << 31)))
    }

    @Test func boundsAboveTheirMaximumAreInvalid() {
        #expect(RotationPolicy(rotateAfterSeconds: RotationPolicy.maximumRotateAfterSeconds,
                               rotateAfterSeals: RotationPolicy.maximumRotateAfterSeals).isValid)
        #expect(!RotationPolicy(rotateAfterSeconds: RotationPolicy.maximumRotateAfterSeconds + 1, rotateAfterSeals: 0)
            .isValid)
        #expect(!RotationPolicy(rotateAfterSeconds: 0, rotateAfterSeals: RotationPolicy.maximumRotateAfterSeals + 1)
            .isValid)
    }

    // MARK: - Entry

    @Test func thePolicyEntryHasTheDocumentedBytes() throws {
        let entry = EncryptionEntry.setRotationPolicy(RotationPolicy(rotateAfterSeconds: 86_400, rotateAfterSeals: 1 << 20))
        let bytes = try entry.encoded()
        #expect(bytes == [0x05, 0x07, 0x01, 0, 0, 0, 0, 0, 0x01, 0x51, 0x80, 0, 0, 0, 0, 0, 0x10, 0, 0, 0])
        #expect(try EncryptionEntry.decode(bytes) == entry)
        let rewriting = EncryptionEntry.setRotationPolicy(RotationPolicy(rotateAfterSeconds: 0, rotateAfterSeals: 0,
                                                                         rewriteAfterRotate: true))
        #expect(try rewriting.encoded().last == 1 && (try EncryptionEntry.decode(try rewriting.encoded())) == rewriting)
    }

    @Test func malformedPolicyEntriesAreRefused() throws {
        let good: [UInt8] = [0x05, 0x07, 0x01] + [UInt8](repeating: 0, count: 17)
        #expect(throws: EntryCodecError.truncated(field: "policy flags")) {
            try EncryptionEntry.decode(Array(good.dropLast()))
        }
        #expect(throws: EntryCodecError.truncated(field: "rotate_after_seals")) {
            try EncryptionEntry.decode(Array(good.dropLast(2)))
        }
        #expect(throws: EntryCodecError.reservedBits(field: "policy flags", 2)) {
            try EncryptionEntry.decode(Array(good.dropLast()) + [2])
        }
        #expect(throws: EntryCodecError.trailingBytes(count: 1)) { try EncryptionEntry.decode(good + [0]) }
        #expect(throws: EntryCodecError.unsupportedVersion(2)) {
            try EncryptionEntry.decode([0x05, 0x07, 0x02] + good.dropFirst(3))
        }
        var seconds = good
        seconds.replaceSubrange(3..<11, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: EntryCodecError.policyBoundOutOfRange(
            field: "rotate_after_seconds", .max, maximum: RotationPolicy.maximumRotateAfterSeconds)) {
            try EncryptionEntry.decode(seconds)
        }
        var seals = good
        seals.replaceSubrange(11..<19, with: [0, 0, 0, 0x01, 0, 0, 0, 0x01])
        #expect(throws: EntryCodecError.policyBoundOutOfRange(
            field: "rotate_after_seals", (1 << 32) + 1, maximum: RotationPolicy.maximumRotateAfterSeals)) {
            try EncryptionEntry.decode(seals)
        }
        #expect(throws: EntryCodecError.unknownSubTag(0x09)) { try EncryptionEntry.decode([0x05, 0x09, 0x01]) }
    }

    // MARK: - Applier and sidecar

    @Test func theApplierKeepsThePolicyInTheSidecarAndAcrossARestart() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let (_, applier) = try node.startApplier()
        let policy = RotationPolicy(rotateAfterSeconds: 60, rotateAfterSeals: 500)
        #expect(throws: ApplyHalt(index: 5, reason: .notBootstrapped)) {
            try applier.apply(payload: EncryptionEntry.setRotationPolicy(policy).payload, index: 5)
        }
        #expect(try applier.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10) == .applied)
        #expect(applier.sidecar?.rotationPolicy == nil)
        #expect(applier.sidecar?.effectiveRotationPolicy == .default)
        #expect(try applier.apply(payload: EncryptionEntry.setRotationPolicy(policy).payload, index: 11) == .applied)
        #expect(try node.sidecarFile.read()?.rotationPolicy == policy)
        #expect(try node.sidecarFile.read()?.raftAppliedIndex == 11)
        let operations = node.fileSystem.operationCount
        #expect(try applier.apply(payload: EncryptionEntry.setRotationPolicy(policy).payload, index: 12) == .alreadyApplied)
        #expect(try applier.apply(payload: EncryptionEntry.setRotationPolicy(.default).payload, index: 11)
            == .alreadyApplied)
        #expect(node.fileSystem.operationCount == operations)
        let (_, restarted) = try node.startApplier()
        #expect(restarted.sidecar?.rotationPolicy == policy)
        #expect(restarted.sidecar?.replicatedState.rotationPolicy == policy)
    }

    @Test func thePolicyRoundTripsThroughTheSidecarJSONAndIsValidated() throws {
        let (node, _, applier) = try ApplierEntryTests.bootstrappedNode()
        _ = node
        var sidecar = try #require(applier.sidecar)
        let plain = String(decoding: sidecar.encodedJSON(), as: UTF8.self)
        #expect(!plain.contains("rotation_policy"))
        sidecar.rotationPolicy = RotationPolicy(rotateAfterSeconds: 7, rotateAfterSeals: 0, rewriteAfterRotate: true)
        #expect(String(decoding: sidecar.encodedJSON(), as: UTF8.self).contains("\"rewrite_after_rotate\" : true"))
        #expect(try Sidecar(json: sidecar.encodedJSON(), path: "keys.json") == sidecar)
        sidecar.rotationPolicy = RotationPolicy(rotateAfterSeconds: 7, rotateAfterSeals: 0)
        let text = String(decoding: sidecar.encodedJSON(), as: UTF8.self)
        #expect(text.contains("\"rotation_policy\" : {\n    \"rotate_after_seals\" : 0,\n    \"rotate_after_seconds\" : 7\n  }"))
        #expect(try Sidecar(json: sidecar.encodedJSON(), path: "keys.json") == sidecar)
        let tooMany = text.replacingOccurrences(of: "\"rotate_after_seals\" : 0",
                                                with: "\"rotate_after_seals\" : 4294967297")
        #expect(throws: SidecarError(.invalidRotationPolicy, path: "keys.json")) {
            try Sidecar(json: Array(tooMany.utf8), path: "keys.json")
        }
        let missing = text.replacingOccurrences(of: "\"rotate_after_seals\" : 0,", with: "")
        #expect(throws: SidecarError.self) { try Sidecar(json: Array(missing.utf8), path: "keys.json") }
    }

    // MARK: - Creation times

    @Test func creationTimesParseBackToTheirSeconds() {
        var generator = SplitMix64(seed: 20261208)
        var samples: [UInt64] = [0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_400,
                                 EntryLimits.maxCreatedUnixSeconds]
        samples += (0..<2000).map { _ in generator.next() % (EntryLimits.maxCreatedUnixSeconds + 1) }
        for seconds in samples {
            let text = Sidecar.createdTimestamp(unixSeconds: seconds)
            #expect(Sidecar.unixSeconds(ofCreated: text) == seconds, "\(text)")
        }
    }

    @Test(arguments: ["", "2026-04-29T10:00:00", "2026-04-29 10:00:00Z", "2026-02-30T00:00:00Z",
                      "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-04-00T00:00:00Z", "2026-04-29T24:00:00Z",
                      "2026-04-29T10:60:00Z", "2026-04-29T10:00:60Z", "1969-12-31T23:59:59Z", "2O26-04-29T10:00:00Z",
                      "+026-04-29T10:00:00Z", "2025-02-29T00:00:00Z"])
    func malformedCreationTimesDoNotParse(text: String) {
        #expect(Sidecar.unixSeconds(ofCreated: text) == nil)
    }

    @Test func leapDaysParse() {
        #expect(Sidecar.unixSeconds(ofCreated: "2024-02-29T00:00:00Z") == 1_709_164_800)
        #expect(Sidecar.unixSeconds(ofCreated: "2000-02-29T23:59:59Z") == 951_868_799)
    }
}
