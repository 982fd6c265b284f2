import DurableIO
import Encryption
import TestSupport
import Testing

/// ``EncryptionApplier/adopt(_:)`` (a snapshot's replicated encryption state), ``Sidecar/replicatedState`` and
/// ``EncryptionApplier/raiseLocalEpochs(_:)``.
@Suite("Applier: adopting a snapshot's state and raising epochs")
struct EncryptionApplierAdoptTests {
    typealias E = SidecarTestEntries
    static let kek = SidecarTestKEK(generation: 1)
    static let rotatedID: KeyID = 77

    /// The replicated state of a replica that applied `entries` (payload, index) from scratch.
    static func replicatedState(
        kek: SidecarTestKEK = kek, _ entries: [(EncryptionEntry, UInt64)]
    ) throws -> Sidecar {
        let source = SidecarTestNode(kek: kek)
        let (_, applier) = try source.startApplier()
        for (entry, index) in entries {
            #expect(try applier.apply(payload: entry.payload, index: index) == .applied)
        }
        return try #require(applier.sidecar).replicatedState
    }

    static var bootstrap: (EncryptionEntry, UInt64) { (E.bootstrap(kek: kek), 10) }
    static var rotation: (EncryptionEntry, UInt64) {
        (E.rotate(kek: kek, id: rotatedID, purpose: .storage, seed: 9), 20)
    }

    /// A node that applied the standard bootstrap at index 10 and restarted, so its keys are at epoch 1.
    static func bootstrappedNode(kek: SidecarTestKEK = kek) throws -> (
        SidecarTestNode, EncryptionState, EncryptionApplier
    ) {
        let node = SidecarTestNode(kek: kek)
        let (_, first) = try node.startApplier()
        #expect(try first.apply(payload: bootstrap.0.payload, index: bootstrap.1) == .applied)
        let (state, applier) = try node.startApplier()
        #expect(applier.sidecar?.keys.values.map(\.localEpoch) == [1, 1])
        return (node, state, applier)
    }

    // MARK: - Sidecar.replicatedState

    @Test("the replicated state zeroes every local epoch and keeps everything else")
    func replicatedStateZeroesEpochs() throws {
        let (_, _, applier) = try Self.bootstrappedNode()
        let sidecar = try #require(applier.sidecar)
        let state = sidecar.replicatedState
        #expect(state.keys.values.allSatisfy { $0.localEpoch == 0 })
        #expect(state.keys.keys.sorted() == sidecar.keys.keys.sorted())
        #expect(state.keys[E.storageID]?.wrapped == sidecar.keys[E.storageID]?.wrapped)
        var restored = state
        for id in restored.keys.keys { restored.keys[id]!.localEpoch = sidecar.keys[id]!.localEpoch }
        #expect(restored == sidecar)
    }

    // MARK: - Keys

    @Test("a node without a sidecar unwraps and installs every key at local epoch 0")
    func freshNodeInstallsKeysAtEpochZero() throws {
        let state = try Self.replicatedState([Self.bootstrap, Self.rotation])
        let node = SidecarTestNode(kek: Self.kek)
        let (encryption, applier) = try node.startApplier()

        #expect(try applier.adopt(state))

        #expect(encryption.keystore.keyIDs == [Self.rotatedID, E.storageID, E.raftID].sorted())
        #expect(encryption.keystore.entry(id: E.storageID)!.key.hasSameBytes(as: sidecarTestDEK(1)))
        #expect(encryption.keystore.entry(id: E.raftID)!.key.hasSameBytes(as: sidecarTestDEK(2)))
        #expect(encryption.keystore.entry(id: Self.rotatedID)!.key.hasSameBytes(as: sidecarTestDEK(9)))
        #expect(encryption.keystore.entry(id: Self.rotatedID)?.purpose == .storage)
        #expect(applier.sidecar == state, "a fresh node's state is the replicated state itself")
        #expect(try node.sidecarFile.read() == state)
    }

    @Test("keys already held keep their local epoch; new keys start at 0")
    func heldKeysKeepTheirEpoch() throws {
        let state = try Self.replicatedState([Self.bootstrap, Self.rotation])
        let (node, _, applier) = try Self.bootstrappedNode()

        #expect(try applier.adopt(state))

        let written = try #require(try node.sidecarFile.read())
        #expect(written.keys[E.storageID]?.localEpoch == 1)
        #expect(written.keys[E.raftID]?.localEpoch == 1)
        #expect(written.keys[Self.rotatedID]?.localEpoch == 0)
        #expect(written.raftAppliedIndex == 20)
        #expect(written.replicatedState == state)
        #expect(applier.sealingLocalEpoch(for: E.storageID) == 1)
        #expect(applier.sealingLocalEpoch(for: Self.rotatedID) == 0)
    }

    @Test("keys the adopted state no longer lists leave the keystore and the sidecar")
    func retiredKeysLeave() throws {
        let state = try Self.replicatedState([
            Self.bootstrap, Self.rotation, (EncryptionEntry.retireDEK(E.storageID), 30),
        ])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        #expect(encryption.keystore.entry(id: E.storageID) != nil)

        #expect(try applier.adopt(state))

        #expect(encryption.keystore.entry(id: E.storageID) == nil)
        #expect(encryption.keystore.keyIDs == [Self.rotatedID, E.raftID].sorted())
        #expect(try node.sidecarFile.read()?.keys[E.storageID] == nil)
        #expect(applier.sidecar?.keys[E.storageID] == nil)
    }

    // MARK: - Active ids, flags and cut-over

    @Test("active ids, the storage flag and the cut-over are adopted and the cut-over is installed")
    func activeIDsAndCutoverAdopted() throws {
        let state = try Self.replicatedState([
            Self.bootstrap, Self.rotation, (EncryptionEntry.enableStorageEnvelope, 25),
            (EncryptionEntry.enableRaftEnvelope, 30),
        ])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        #expect(encryption.keystore.activeKeyID(for: .storage) == E.storageID)

        #expect(try applier.adopt(state))

        #expect(encryption.keystore.activeKeyID(for: .storage) == Self.rotatedID)
        #expect(encryption.keystore.activeKeyID(for: .raft) == E.raftID)
        let written = try #require(try node.sidecarFile.read())
        #expect(written.activeKeyIDs == [.storage: Self.rotatedID, .raft: E.raftID])
        #expect(written.storageEnvelopeActive)
        #expect(written.raftEnvelopeCutoverIndex == 30)
        #expect(written.raftAppliedIndex == 30)
        #expect(node.installs.indexes == [30])
    }

    @Test("without a cut-over in the state, the installer is not called")
    func noCutoverNoInstall() throws {
        let state = try Self.replicatedState([Self.bootstrap, Self.rotation])
        let (node, _, applier) = try Self.bootstrappedNode()
        #expect(try applier.adopt(state))
        #expect(node.installs.indexes.isEmpty)
    }

    // MARK: - Nothing to do

    @Test("a state at the sidecar's index changes nothing, even when its content differs")
    func stateAtSidecarIndexChangesNothing() throws {
        let other = try Self.replicatedState([
            Self.bootstrap, (E.rotate(kek: Self.kek, id: 78, purpose: .storage, seed: 11), 20),
        ])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: Self.rotation.0.payload, index: Self.rotation.1) == .applied)
        let before = try node.fileSystem.readFile(at: node.sidecarFile.path)
        let sidecarBefore = applier.sidecar
        let operations = node.fileSystem.operationCount

        #expect(try applier.adopt(other) == false)

        #expect(node.fileSystem.operationCount == operations)
        #expect(try node.fileSystem.readFile(at: node.sidecarFile.path) == before)
        #expect(applier.sidecar == sidecarBefore)
        #expect(encryption.keystore.entry(id: 78) == nil)
        #expect(encryption.keystore.activeKeyID(for: .storage) == Self.rotatedID)
    }

    @Test("a state below the sidecar's index changes nothing")
    func stateBelowSidecarIndexChangesNothing() throws {
        let older = try Self.replicatedState([Self.bootstrap])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: Self.rotation.0.payload, index: Self.rotation.1) == .applied)
        let operations = node.fileSystem.operationCount

        #expect(try applier.adopt(older) == false)

        #expect(node.fileSystem.operationCount == operations)
        #expect(applier.sidecar?.raftAppliedIndex == 20)
        #expect(encryption.keystore.keyIDs.contains(Self.rotatedID))
        #expect(encryption.keystore.activeKeyID(for: .storage) == Self.rotatedID)
    }

    // MARK: - Halts

    @Test("a state of another bootstrap halts with conflictingBootstrap and changes nothing")
    func otherBootstrapHalts() throws {
        let foreign = try Self.replicatedState([
            (E.bootstrap(kek: Self.kek, seed: 5), 10), Self.rotation,
        ])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        let operations = node.fileSystem.operationCount

        #expect(throws: ApplyHalt(index: 20, reason: .conflictingBootstrap)) { try applier.adopt(foreign) }

        #expect(node.fileSystem.operationCount == operations)
        #expect(applier.sidecar?.raftAppliedIndex == 10)
        #expect(encryption.keystore.entry(id: Self.rotatedID) == nil)
    }

    @Test("a state with another cut-over than the recorded one halts with cutoverDivergence")
    func otherCutoverHalts() throws {
        let state = try Self.replicatedState([Self.bootstrap, (EncryptionEntry.enableRaftEnvelope, 25)])
        let (node, _, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 20) == .applied)
        let operations = node.fileSystem.operationCount

        #expect(throws: ApplyHalt(index: 25, reason: .cutoverDivergence(recorded: 20))) { try applier.adopt(state) }

        #expect(node.fileSystem.operationCount == operations)
        #expect(try node.sidecarFile.read()?.raftEnvelopeCutoverIndex == 20)
        #expect(node.installs.indexes == [20])
    }

    @Test("a state without the cut-over this node recorded halts with cutoverDivergence")
    func missingCutoverHalts() throws {
        let state = try Self.replicatedState([
            Self.bootstrap, (E.rotate(kek: Self.kek, id: Self.rotatedID, purpose: .storage, seed: 9), 30),
        ])
        let (_, encryption, applier) = try Self.bootstrappedNode()
        #expect(try applier.apply(payload: EncryptionEntry.enableRaftEnvelope.payload, index: 20) == .applied)

        #expect(throws: ApplyHalt(index: 30, reason: .cutoverDivergence(recorded: 20))) { try applier.adopt(state) }

        #expect(encryption.keystore.entry(id: Self.rotatedID) == nil)
    }

    @Test("a new key that the configured KEK does not unwrap halts with kekMismatch and writes nothing")
    func undecryptableKeyHalts() throws {
        // The source accepts both KEK generations; its rotation wraps key 77 under generation 2.
        let state = try Self.replicatedState(
            kek: SidecarTestKEK(generation: 1, alsoAccepts: [2]),
            [
                Self.bootstrap,
                (E.rotate(kek: SidecarTestKEK(generation: 2), id: Self.rotatedID, purpose: .storage, seed: 9), 20),
            ])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        let before = try node.fileSystem.readFile(at: node.sidecarFile.path)

        #expect(throws: ApplyHalt(index: 20, reason: .kekMismatch(Self.rotatedID))) { try applier.adopt(state) }

        #expect(try node.fileSystem.readFile(at: node.sidecarFile.path) == before)
        #expect(applier.sidecar?.raftAppliedIndex == 10)
        #expect(encryption.keystore.entry(id: Self.rotatedID) == nil)
        #expect(encryption.keystore.activeKeyID(for: .storage) == E.storageID)
    }

    @Test("a failed sidecar write halts as retryable and leaves the applier's sidecar as it was")
    func failedWriteHalts() throws {
        let state = try Self.replicatedState([Self.bootstrap, Self.rotation])
        let (node, encryption, applier) = try Self.bootstrappedNode()
        let sidecarBefore = applier.sidecar
        node.fileSystem.faultPolicy = { _ in .fail }

        do throws(ApplyHalt) {
            try applier.adopt(state)
            Issue.record("a failed sidecar write must halt")
        } catch {
            guard case .sidecarWriteFailed = error.reason else {
                Issue.record("expected sidecarWriteFailed, got \(error)")
                return
            }
            #expect(error.index == 20 && error.isRetryable)
        }
        node.fileSystem.faultPolicy = { _ in nil }
        #expect(applier.sidecar == sidecarBefore)
        #expect(encryption.keystore.activeKeyID(for: .storage) == E.storageID)
    }

    // MARK: - raiseLocalEpochs

    @Test("raising epochs raises the listed keys only and the file holds the result")
    func raiseWritesTheFile() throws {
        let (node, _, applier) = try Self.bootstrappedNode()

        try applier.raiseLocalEpochs([E.storageID: 6, 999: 4])

        let written = try #require(try node.sidecarFile.read())
        #expect(written.keys[E.storageID]?.localEpoch == 6)
        #expect(written.keys[E.raftID]?.localEpoch == 1)
        #expect(written.keys[999] == nil, "an epoch for a key the node does not hold adds no key")
        #expect(written == applier.sidecar)
        #expect(applier.sealingLocalEpoch(for: E.storageID) == 6)
    }

    @Test("raising epochs never lowers one")
    func raiseNeverLowers() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        try applier.raiseLocalEpochs([E.storageID: 5])

        try applier.raiseLocalEpochs([E.storageID: 2, E.raftID: 0])

        #expect(try node.sidecarFile.read()?.keys[E.storageID]?.localEpoch == 5)
        #expect(try node.sidecarFile.read()?.keys[E.raftID]?.localEpoch == 1)
        #expect(applier.sealingLocalEpoch(for: E.storageID) == 5)
    }

    @Test("raised epochs survive a crash and the next start bumps from them")
    func raiseIsDurable() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        try applier.raiseLocalEpochs([E.storageID: 9])

        node.fileSystem.crash()

        #expect(try node.sidecarFile.read()?.keys[E.storageID]?.localEpoch == 9)
        let restarted = try node.start()
        #expect(restarted.sealingLocalEpochs[E.storageID] == 10)
        #expect(restarted.sealingLocalEpochs[E.raftID] == 2)
    }

    @Test("a failed write throws and leaves the in-memory sidecar unchanged")
    func raiseFailureKeepsState() throws {
        let (node, _, applier) = try Self.bootstrappedNode()
        let before = applier.sidecar
        node.fileSystem.faultPolicy = { _ in .fail }

        #expect(throws: SidecarError.self) { try applier.raiseLocalEpochs([E.storageID: 7]) }

        node.fileSystem.faultPolicy = { _ in nil }
        #expect(applier.sidecar == before)
        #expect(try node.sidecarFile.read()?.keys[E.storageID]?.localEpoch == 1)
    }

    @Test("before the bootstrap there is nothing to raise and nothing is written")
    func raiseWithoutSidecar() throws {
        let node = SidecarTestNode(kek: Self.kek)
        let (_, applier) = try node.startApplier()
        let operations = node.fileSystem.operationCount

        try applier.raiseLocalEpochs([E.storageID: 3])

        #expect(node.fileSystem.operationCount == operations)
        #expect(!node.sidecarFile.exists)
        #expect(applier.sidecar == nil)
    }
}
