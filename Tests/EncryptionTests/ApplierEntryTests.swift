import DurableIO
import Encryption
import TestSupport
import Testing

@Suite("Applier: entry behaviour")
struct ApplierEntryTests {
    typealias E = SidecarTestEntries
    static let kek = SidecarTestKEK(generation: 1)
    static let bootstrapIndex: UInt64 = 10

    /// A node that applied the standard bootstrap at index 10, restarted (epochs bumped to 1) and is ready.
    static func bootstrappedNode(kek: SidecarTestKEK = kek) throws -> (
        SidecarTestNode, EncryptionState, EncryptionApplier
    ) {
        let node = SidecarTestNode(kek: kek)
        let (_, first) = try node.startApplier()
        #expect(try first.apply(payload: E.bootstrap(kek: Self.kek).payload, index: bootstrapIndex) == .applied)
        let (state, applier) = try node.startApplier()
        return (node, state, applier)
    }

    static func expectHalt(
        _ applier: EncryptionApplier, _ entry: EncryptionEntry, at index: UInt64, _ reason: ApplyHalt.Reason,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: ApplyHalt(index: index, reason: reason), sourceLocation: sourceLocation) {
            try applier.apply(payload: entry.payload, index: index)
        }
    }

    static func rows(_ node: SidecarTestNode) -> [WriterRegistryKey: WriterRegistryRow] {
        (node.registry as! InMemoryWriterRegistryStore).allRows
    }

    @Test("bootstrap installs both keys, writes the sidecar and registers every member at epoch 0")
    func bootstrap() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let (state, applier) = try node.startApplier()
        #expect(try applier.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10) == .applied)
        #expect(state.keystore.activeKeyID(for: .storage) == E.storageID)
        #expect(state.keystore.activeKeyID(for: .raft) == E.raftID)
        #expect(state.keystore.entry(id: E.storageID)!.key.hasSameBytes(as: sidecarTestDEK(1)))
        #expect(state.keystore.entry(id: E.raftID)!.key.hasSameBytes(as: sidecarTestDEK(2)))
        let sidecar = try #require(try node.sidecarFile.read())
        #expect(sidecar == applier.sidecar)
        #expect(
            sidecar.raftAppliedIndex == 10 && !sidecar.storageEnvelopeActive && sidecar.raftEnvelopeCutoverIndex == nil)
        #expect(sidecar.keys[E.storageID]?.created == "2026-04-29T10:00:00Z")
        #expect(sidecar.keys.values.allSatisfy { $0.localEpoch == 0 })
        #expect(sidecar.bootstrapDigest?.count == 32)
        let rows = Self.rows(node)
        #expect(rows.count == 6)
        #expect(rows.values.allSatisfy { $0.firstSeenLocalEpoch == 0 && $0.lastSeenLocalEpoch == 0 })
    }

    @Test("a replayed or re-committed identical bootstrap changes nothing; a different one halts")
    func secondBootstrap() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        let before = try node.fileSystem.readFile(at: node.sidecarFile.path)
        let operations = node.fileSystem.operationCount
        #expect(try applier.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10) == .alreadyApplied)
        #expect(try applier.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 11) == .alreadyApplied)
        Self.expectHalt(applier, E.bootstrap(kek: Self.kek, seed: 5), at: 12, .conflictingBootstrap)
        Self.expectHalt(applier, E.bootstrap(kek: Self.kek, seed: 5), at: 9, .conflictingBootstrap)
        #expect(node.fileSystem.operationCount == operations)
        #expect(try node.fileSystem.readFile(at: node.sidecarFile.path) == before)
    }

    @Test("a bootstrap whose registrations target another key or epoch halts before any change")
    func bootstrapValidation() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let (state, applier) = try node.startApplier()
        let operations = node.fileSystem.operationCount
        let foreign = E.registrations(for: [E.storageID, 99])
        Self.expectHalt(
            applier, E.bootstrap(kek: Self.kek, registrations: foreign), at: 10, .registrationForOtherKey(99))
        let late = E.registrations(for: [E.storageID], epoch: 1)
        Self.expectHalt(
            applier, E.bootstrap(kek: Self.kek, registrations: late), at: 10,
            .registrationEpochNotZero(E.storageID, 1))
        Self.expectHalt(applier, E.bootstrap(kek: SidecarTestKEK(generation: 2)), at: 10, .kekMismatch(E.storageID))
        #expect(node.fileSystem.operationCount == operations)
        #expect(state.keystore.keyIDs.isEmpty && applier.sidecar == nil && Self.rows(node).isEmpty)
    }

    @Test("a bootstrap registering two nodes with one node16 is rejected without effect")
    func bootstrapCollision() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let (state, applier) = try node.startApplier()
        let registrations = [collidingFullNodeIDs.0, collidingFullNodeIDs.1].map {
            WriterRegistration(dekID: E.storageID, fullNodeID: $0, localEpoch: 0)
        }
        let outcome = try applier.apply(
            payload: E.bootstrap(kek: Self.kek, registrations: registrations).payload, index: 10)
        guard case .rejected(.nodeIDCollision) = outcome else {
            Issue.record("expected a collision, got \(outcome)")
            return
        }
        #expect(
            state.keystore.keyIDs.isEmpty && applier.sidecar == nil && !node.sidecarFile.exists
                && Self.rows(node).isEmpty)
    }

    @Test("rotation activates the new key at epoch 0, keeps old keys and their epochs, registers members")
    func rotation() throws {
        let (node, state, applier) = try Self.bootstrappedNode()
        #expect(
            try applier.apply(payload: E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9).payload, index: 20)
                == .applied)
        let sidecar = try #require(try node.sidecarFile.read())
        #expect(sidecar.activeKeyIDs == [.storage: 77, .raft: E.raftID])
        #expect(sidecar.keys[77]?.localEpoch == 0 && sidecar.keys[E.storageID]?.localEpoch == 1)
        #expect(sidecar.keys[77]?.created == "2026-04-29T11:00:00Z")
        #expect(sidecar.raftAppliedIndex == 20)
        #expect(state.keystore.activeKeyID(for: .storage) == 77 && state.keystore.keyIDs.count == 3)
        #expect(applier.sealingLocalEpoch(for: 77) == 0 && applier.sealingLocalEpoch(for: E.raftID) == 1)
        #expect(applier.sealingLocalEpoch(for: 4) == nil)
        #expect(Self.rows(node).keys.filter { $0.dekID == 77 }.count == 3)
    }

    @Test("rotation refuses foreign registrations, a reused id of another purpose, and a missing bootstrap")
    func rotationValidation() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        var body = E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9)
        if case .rotateDEK(let rotate) = body {
            body = .rotateDEK(
                .init(
                    createdUnixSeconds: 0, replacedKeyID: E.storageID, key: rotate.key,
                    registrations: E.registrations(for: [E.storageID])))
        }
        Self.expectHalt(applier, body, at: 20, .registrationForOtherKey(E.storageID))
        Self.expectHalt(
            applier, E.rotate(kek: Self.kek, id: E.raftID, purpose: .storage, seed: 9, replacing: E.storageID), at: 20,
            .keyIDReused(E.raftID))
        let (_, fresh) = try SidecarTestNode(kek: Self.kek).startApplier()
        Self.expectHalt(fresh, E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9), at: 20, .notBootstrapped)
    }

    @Test("a rotation committed twice never re-activates or re-introduces an older key")
    func duplicateRotation() throws {
        let (node, state, applier) = try Self.bootstrappedNode()
        let first = E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9)
        let second = E.rotate(kek: Self.kek, id: 78, purpose: .storage, seed: 10, replacing: 77)
        #expect(try applier.apply(payload: first.payload, index: 20) == .applied)
        #expect(try applier.apply(payload: second.payload, index: 21) == .applied)
        #expect(try applier.apply(payload: first.payload, index: 22) == .alreadyApplied)
        #expect(state.keystore.activeKeyID(for: .storage) == 78 && applier.sidecar?.activeKeyIDs[.storage] == 78)
        #expect(try applier.apply(payload: EncryptionEntry.retireDEK(77).payload, index: 30) == .applied)
        let operations = node.fileSystem.operationCount
        #expect(try applier.apply(payload: first.payload, index: 35) == .superseded)
        #expect(state.keystore.entry(id: 77) == nil && applier.sidecar?.keys[77] == nil)
        #expect(!Self.rows(node).keys.contains { $0.dekID == 77 })
        #expect(node.fileSystem.operationCount == operations)
    }

    @Test("a rotation proposed against an active key that changed meanwhile is superseded")
    func staleRotation() throws {
        let (_, state, applier) = try Self.bootstrappedNode()
        #expect(
            try applier.apply(payload: E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9).payload, index: 20)
                == .applied)
        let stale = E.rotate(kek: Self.kek, id: 79, purpose: .storage, seed: 11)
        #expect(try applier.apply(payload: stale.payload, index: 21) == .superseded)
        #expect(state.keystore.entry(id: 79) == nil && state.keystore.activeKeyID(for: .storage) == 77)
        let raft = E.rotate(kek: Self.kek, id: 80, purpose: .raft, seed: 12)
        #expect(try applier.apply(payload: raft.payload, index: 22) == .applied)
    }

    @Test("rewrap replaces wrapped bytes so the node starts with the new KEK alone")
    func rewrap() throws {
        let rotating = SidecarTestKEK(generation: 2, alsoAccepts: [1])
        let (node, _, applier) = try Self.bootstrappedNode(kek: rotating)
        node.kek = SidecarTestKEK(generation: 2)
        #expect(throws: StartupError.kekMismatch(keyID: E.storageID, sidecarPath: node.sidecarFile.path)) {
            try node.start()
        }
        let entry = EncryptionEntry.rewrapDEKs([
            .init(keyID: E.storageID, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(1)))),
            .init(keyID: E.raftID, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(2)))),
        ])
        #expect(try applier.apply(payload: entry.payload, index: 20) == .applied)
        let state = try node.start()
        #expect(state.keystore.entry(id: E.raftID)!.key.hasSameBytes(as: sidecarTestDEK(2)))
        #expect(state.sidecar?.raftAppliedIndex == 20)
    }

    @Test("rewrap halts on other key bytes and bytes the KEK cannot unwrap; only retired keys are skipped")
    func rewrapValidation() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        let operations = node.fileSystem.operationCount
        let changed = EncryptionEntry.rewrapDEKs([
            .init(keyID: E.storageID, wrapped: WrappedDEK(try Self.kek.wrap(sidecarTestDEK(9))))
        ])
        Self.expectHalt(applier, changed, at: 20, .rewrapChangesKey(E.storageID))
        let unknown = EncryptionEntry.rewrapDEKs([
            .init(keyID: 5, wrapped: WrappedDEK(try Self.kek.wrap(sidecarTestDEK(1))))
        ])
        #expect(try applier.apply(payload: unknown.payload, index: 20) == .superseded)
        let foreign = EncryptionEntry.rewrapDEKs([
            .init(keyID: E.raftID, wrapped: WrappedDEK(try Self.kek.wrap(sidecarTestDEK(2)))),
            .init(keyID: E.storageID, wrapped: WrappedDEK(try SidecarTestKEK(generation: 3).wrap(sidecarTestDEK(1)))),
        ])
        Self.expectHalt(applier, foreign, at: 20, .kekMismatch(E.storageID))
        #expect(node.fileSystem.operationCount == operations)
        let rotating = SidecarTestKEK(generation: 1)
        let mixed = EncryptionEntry.rewrapDEKs([
            .init(keyID: 5, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(1)))),
            .init(keyID: E.raftID, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(2)))),
        ])
        #expect(try applier.apply(payload: mixed.payload, index: 21) == .applied)
        #expect(try node.sidecarFile.read()?.raftAppliedIndex == 21)
    }

    @Test("retire removes an inactive key from keystore, sidecar and registry")
    func retire() throws {
        let (node, state, applier) = try Self.bootstrappedNode()
        _ = try applier.apply(payload: E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9).payload, index: 20)
        #expect(try applier.apply(payload: EncryptionEntry.retireDEK(E.storageID).payload, index: 30) == .applied)
        #expect(state.keystore.entry(id: E.storageID) == nil)
        #expect(try node.sidecarFile.read()?.keys[E.storageID] == nil)
        #expect(!Self.rows(node).keys.contains { $0.dekID == E.storageID })
        #expect(
            try applier.apply(payload: EncryptionEntry.retireDEK(E.storageID).payload, index: 30) == .alreadyApplied)
    }

    @Test("retiring an active or unknown key halts")
    func retireValidation() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        Self.expectHalt(applier, .retireDEK(E.raftID), at: 20, .retiringActiveKey(E.raftID))
        Self.expectHalt(applier, .retireDEK(4), at: 20, .unknownKey(4))
    }

    @Test("a replayed retirement deletes registry rows that a lagging registry still has")
    func retireReplay() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        _ = try applier.apply(payload: E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9).payload, index: 20)
        _ = try applier.apply(payload: EncryptionEntry.retireDEK(E.storageID).payload, index: 30)
        try node.registry.setRow(
            WriterRegistryRow(fullNodeID: 1, firstSeenLocalEpoch: 0, lastSeenLocalEpoch: 0),
            for: WriterRegistryKey(dekID: E.storageID, node16: 1))
        #expect(
            try applier.apply(payload: EncryptionEntry.retireDEK(E.storageID).payload, index: 30) == .alreadyApplied)
        #expect(!Self.rows(node).keys.contains { $0.dekID == E.storageID })
    }

    @Test("create-index-key installs the index key once: a second one is superseded, retiring it halts")
    func indexKey() throws {
        let (node, state, applier) = try Self.bootstrappedNode()
        let rowsBefore = Self.rows(node)
        #expect(try applier.apply(payload: E.indexKey(kek: Self.kek, id: 90, seed: 7).payload, index: 20) == .applied)
        #expect(state.keystore.activeKeyID(for: .index) == 90)
        #expect(state.keystore.entry(id: 90)?.key.hasSameBytes(as: sidecarTestDEK(7)) == true)
        let sidecar = try #require(try node.sidecarFile.read())
        #expect(sidecar.activeKeyIDs[.index] == 90 && sidecar.keys[90]?.purpose == .index)
        #expect(sidecar.raftAppliedIndex == 20)
        #expect(Self.rows(node) == rowsBefore, "the index key seals nothing: no writer registrations")
        #expect(state.keystore.elementIndex(keyID: 90)?.keyID == 90)
        #expect(state.keystore.elementIndex(keyID: E.storageID) == nil, "a storage DEK is no index key")
        // Committed twice, or a second leader's key: the first key stays.
        #expect(try applier.apply(payload: E.indexKey(kek: Self.kek, id: 90, seed: 7).payload, index: 20)
            == .alreadyApplied)
        #expect(try applier.apply(payload: E.indexKey(kek: Self.kek, id: 91, seed: 8).payload, index: 21) == .superseded)
        #expect(state.keystore.activeKeyID(for: .index) == 90 && state.keystore.entry(id: 91) == nil)
        Self.expectHalt(applier, .retireDEK(90), at: 22, .retiringActiveKey(90))
        // A restart loads it from the sidecar, without a local epoch of its own.
        let (restarted, _) = try node.startApplier()
        #expect(restarted.keystore.activeKeyID(for: .index) == 90)
        #expect(!restarted.requiredRegistrations.contains { $0.dekID == 90 })
        #expect(restarted.sealingLocalEpochs[90] == nil)
        let (_, fresh) = try SidecarTestNode(kek: Self.kek).startApplier()
        Self.expectHalt(fresh, E.indexKey(kek: Self.kek, id: 90, seed: 7), at: 5, .notBootstrapped)
    }

    @Test("enable-storage-envelope sets the flag once and needs a bootstrap")
    func enableStorage() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: EncryptionEntry.enableStorageEnvelope.payload, index: 20) == .applied)
        #expect(try node.sidecarFile.read()?.storageEnvelopeActive == true)
        #expect(try applier.apply(payload: EncryptionEntry.enableStorageEnvelope.payload, index: 21) == .alreadyApplied)
        #expect(try node.sidecarFile.read()?.raftAppliedIndex == 20)
        let (_, fresh) = try SidecarTestNode(kek: Self.kek).startApplier()
        Self.expectHalt(fresh, .enableStorageEnvelope, at: 5, .notBootstrapped)
    }

    @Test("enable-raft-envelope records the cut-over and installs it on every apply and replay")
    func enableRaft() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 20) == .applied)
        #expect(try node.sidecarFile.read()?.raftEnvelopeCutoverIndex == 20)
        #expect(try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 20) == .alreadyApplied)
        #expect(try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 25) == .alreadyApplied)
        #expect(node.installs.indexes == [20, 20, 20])
        Self.expectHalt(applier, .enableRaftEnvelope, at: 15, .cutoverDivergence(recorded: 20))
        let (_, restarted) = try node.startApplier()
        #expect(try restarted.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 20) == .alreadyApplied)
        #expect(node.installs.indexes == [20, 20, 20, 20])
        let (_, fresh) = try SidecarTestNode(kek: Self.kek).startApplier()
        Self.expectHalt(fresh, .enableRaftEnvelope, at: 5, .notBootstrapped)
    }

    @Test("a replayed enable-raft-envelope that the sidecar does not reflect is a divergence")
    func enableRaftDivergence() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        _ = try applier.apply(payload: EncryptionEntry.enableStorageEnvelope.payload, index: 30)
        Self.expectHalt(applier, .enableRaftEnvelope, at: 20, .cutoverDivergence(recorded: nil))
    }

    @Test("a replayed enable-storage-envelope that the sidecar does not reflect is a divergence")
    func enableStorageDivergence() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        _ = try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 30)
        Self.expectHalt(applier, .enableStorageEnvelope, at: 20, .storageEnvelopeDivergence)
    }

    @Test("registrations follow the registry rules: apply, replay, rollback and collision")
    func registrations() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        let me = sidecarTestMembers[0].fullNodeID
        let entry = EncryptionEntry.writerRegistration([
            WriterRegistration(dekID: E.storageID, fullNodeID: me, localEpoch: 1)
        ])
        #expect(try applier.apply(payload: entry.payload, index: 11) == .applied)
        #expect(try applier.apply(payload: entry.payload, index: 11) == .alreadyApplied)
        let rowsBefore = Self.rows(node)
        let rollback = EncryptionEntry.writerRegistration([
            WriterRegistration(dekID: E.raftID, fullNodeID: me, localEpoch: 1),
            WriterRegistration(dekID: E.storageID, fullNodeID: me, localEpoch: 0),
        ])
        #expect(
            try applier.apply(payload: rollback.payload, index: 12)
                == .rejected(
                    .localEpochRollback(dekID: E.storageID, fullNodeID: me, lastSeenLocalEpoch: 1, claimedLocalEpoch: 0)
                ))
        let intruder = sidecarTestMembers[0].fullNodeID ^ 0x0001_0000_0000_0000
        let collision = EncryptionEntry.writerRegistration([
            WriterRegistration(dekID: E.storageID, fullNodeID: intruder, localEpoch: 5)
        ])
        guard case .rejected(.nodeIDCollision) = try applier.apply(payload: collision.payload, index: 13) else {
            Issue.record("expected a collision")
            return
        }
        #expect(Self.rows(node) == rowsBefore)
    }

    @Test("a node may seal only under the epoch its committed registration names")
    func maySeal() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let me = node.identity
        let (_, first) = try node.startApplier()
        #expect(try !first.maySeal(under: E.storageID, as: me))
        _ = try first.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10)
        #expect(try first.maySeal(under: E.storageID, as: me) && first.maySeal(under: E.raftID, as: me))
        let (state, restarted) = try node.startApplier()
        #expect(try !restarted.maySeal(under: E.storageID, as: me))
        let registration = EncryptionEntry.writerRegistration(state.requiredRegistrations)
        #expect(try restarted.apply(payload: registration.payload, index: 11) == .applied)
        #expect(try restarted.maySeal(under: E.storageID, as: me) && restarted.maySeal(under: E.raftID, as: me))
        let impostor = NodeIdentity(name: "impostor")
        #expect(try !restarted.maySeal(under: E.storageID, as: impostor))
        #expect(try !restarted.maySeal(under: 4, as: me))
    }

    @Test("malformed payloads, unknown sub-tags and unknown purposes halt")
    func malformed() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        #expect(throws: ApplyHalt(index: 20, reason: .malformedEntry(.unknownSubTag(9)))) {
            try applier.apply(payload: [0x05, 0x09, 0x01], index: 20)
        }
        #expect(throws: ApplyHalt(index: 20, reason: .malformedEntry(.trailingBytes(count: 1)))) {
            try applier.apply(payload: [0x05, 0x04, 0x01, 0x00], index: 20)
        }
        var rotate = E.rotate(kek: Self.kek, id: 77, purpose: .storage, seed: 9).payload
        rotate[19] = 9
        #expect(throws: ApplyHalt(index: 20, reason: .malformedEntry(.unknownPurpose(9)))) {
            try applier.apply(payload: rotate, index: 20)
        }
    }

    @Test("replaying an old bootstrap after a KEK rotation does not unwrap it")
    func replayAfterRewrap() throws {
        let rotating = SidecarTestKEK(generation: 2, alsoAccepts: [1])
        let (node, _, applier) = try Self.bootstrappedNode(kek: rotating)
        let entry = EncryptionEntry.rewrapDEKs([
            .init(keyID: E.storageID, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(1)))),
            .init(keyID: E.raftID, wrapped: WrappedDEK(try rotating.wrap(sidecarTestDEK(2)))),
        ])
        _ = try applier.apply(payload: entry.payload, index: 20)
        node.kek = SidecarTestKEK(generation: 2)
        let (_, restarted) = try node.startApplier()
        #expect(try restarted.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10) == .alreadyApplied)
        #expect(try restarted.apply(payload: entry.payload, index: 20) == .alreadyApplied)
    }

    @Test("halt descriptions name the normative errors and say whether a restart can help")
    func haltDescriptions() {
        let mismatch = ApplyHalt(index: 4, reason: .kekMismatch(9))
        #expect(mismatch.description.contains("ErrKEKMismatch") && mismatch.description.contains("entry 4"))
        #expect(
            ApplyHalt(index: 4, reason: .cutoverDivergence(recorded: 3)).description.contains(
                "ErrEnvelopeCutoverDivergence"))
        let failure = SidecarError(.writeFailed(FileSystemError(.noSpace, operation: "write", path: "/x")), path: "/x")
        #expect(ApplyHalt(index: 4, reason: .sidecarWriteFailed(failure)).isRetryable)
        #expect(!mismatch.isRetryable)
    }
}
