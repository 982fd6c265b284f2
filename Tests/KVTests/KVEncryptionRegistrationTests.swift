import DurableIO
import Encryption
import Foundation
import KV
import Storage
import TestSupport
import Testing

/// A restarted node's writer registration (DESIGN §3.6) through ``KVEncryption``: applying the registration
/// writes the registry rows, but the loaded keys seal only once the node layer, having judged the committed log,
/// calls ``KVEncryption/confirmRegistrations()``; a refused registration is re-derived durably, and writer
/// registrations stay cleartext after the raft cut-over.
@Suite struct KVEncryptionRegistrationTests {
    typealias Node = EncryptionIntegrationTests.Node
    static let storageID: KeyID = 0x0102_0304
    static let raftID: KeyID = 0x0A0B_0C0D

    /// Applies cleartext data, the bootstrap and enable-storage-envelope (indexes 1–4), plus enable-raft-envelope
    /// at 5 when `raftCutover`, on a fresh node in `dir`, and stops it.
    static func prepareDataDirectory(_ dir: TemporaryDirectory, raftCutover: Bool) throws {
        let first = try Node(dir: dir)
        defer { first.close() }
        var log = [
            EncryptionIntegrationTests.set("a", "plain-A", index: 1),
            try EncryptionIntegrationTests.bootstrap(first, index: 2),
            CommittedEntry(index: 3, term: 1, data: try EncryptionEntry.enableStorageEnvelope.encoded()),
            EncryptionIntegrationTests.set("b", "SECRET-B", index: 4),
        ]
        if raftCutover {
            log.append(CommittedEntry(index: 5, term: 1, data: try EncryptionEntry.enableRaftEnvelope.encoded()))
        }
        let outcome = first.machine.apply(log)
        #expect(outcome.halt == nil && outcome.appliedIndex == UInt64(log.count))
        #expect(first.encryption.pendingRegistrations.isEmpty, "keys a running node installed need no registration")
    }

    /// A node restarted on a data dir prepared by ``prepareDataDirectory(_:raftCutover:)``.
    static func restartedNode(_ dir: TemporaryDirectory, raftCutover: Bool = false) throws -> Node {
        try prepareDataDirectory(dir, raftCutover: raftCutover)
        return try Node(dir: dir)
    }

    static func registration(_ registrations: [WriterRegistration], index: UInt64) throws -> CommittedEntry {
        CommittedEntry(index: index, term: 2, data: try EncryptionEntry.writerRegistration(registrations).encoded())
    }

    static func mine(_ node: Node, storage: UInt16, raft: UInt16) -> [WriterRegistration] {
        [
            WriterRegistration(dekID: storageID, fullNodeID: node.identity.fullNodeID, localEpoch: storage),
            WriterRegistration(dekID: raftID, fullNodeID: node.identity.fullNodeID, localEpoch: raft),
        ]
    }

    static func sidecarOnDisk(_ dir: TemporaryDirectory) throws -> Sidecar? {
        try SidecarFile(dataDirectory: dir.path, fileSystem: PosixFileSystem()).read()
    }

    // MARK: - Sealing waits for the registration

    @Test func afterARestartLoadedKeysArePendingAndHaveNoSealingEpoch() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }

        #expect(node.encryption.pendingRegistrations == Self.mine(node, storage: 1, raft: 1))
        #expect(node.keyringEpoch(Self.storageID) == nil)
        #expect(node.keyringEpoch(Self.raftID) == nil)
        #expect(node.encryption.applier.sealingLocalEpoch(for: Self.storageID) == 1)
    }

    @Test func aSealedWriteBeforeTheRegistrationHaltsWithSealingFailed() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }

        let outcome = node.machine.apply([EncryptionIntegrationTests.set("c", "SECRET-C", index: 5)])

        #expect(outcome.appliedIndex == 4)
        #expect(outcome.halt?.index == 5)
        #expect(
            outcome.halt?.cause
                == .storage(.sealingFailed(reason: EnvelopeError.localEpochNotSet(Self.storageID).description)))
        #expect(try EncryptionIntegrationTests.value(node, "c") == nil)
    }

    /// Whether the registry rows let `node` seal under the storage and the raft key.
    static func maySeal(_ node: Node) throws -> (storage: Bool, raft: Bool) {
        (
            try node.encryption.applier.maySeal(under: storageID, as: node.identity),
            try node.encryption.applier.maySeal(under: raftID, as: node.identity)
        )
    }

    @Test func applyingTheNodesOwnRegistrationMakesMaySealTrueAndConfirmRegistrationsThenEnablesSealing() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let pending = node.encryption.pendingRegistrations
        #expect(try Self.maySeal(node) == (false, false), "the bootstrap registered epoch 0, not 1")

        let registered = node.machine.apply([try Self.registration(pending, index: 5)])

        #expect(registered.halt == nil && registered.appliedIndex == 5)
        #expect(try Self.maySeal(node) == (true, true))
        #expect(node.encryption.pendingRegistrations == pending, "applying does not confirm; the node layer does")
        #expect(node.keyringEpoch(Self.storageID) == nil && node.keyringEpoch(Self.raftID) == nil)
        let early = node.machine.apply([EncryptionIntegrationTests.set("c", "SECRET-C", index: 6)])
        #expect(early.appliedIndex == 5 && early.halt?.index == 6)
        #expect(
            early.halt?.cause
                == .storage(.sealingFailed(reason: EnvelopeError.localEpochNotSet(Self.storageID).description)))

        node.encryption.confirmRegistrations()
        let outcome = node.machine.apply([EncryptionIntegrationTests.set("c", "SECRET-C", index: 6)])

        #expect(outcome.halt == nil && outcome.appliedIndex == 6)
        #expect(node.encryption.pendingRegistrations.isEmpty)
        #expect(node.keyringEpoch(Self.storageID) == 1 && node.keyringEpoch(Self.raftID) == 1)
        #expect(try EncryptionIntegrationTests.value(node, "c") == "SECRET-C")
        #expect(try node.store.countVersions(sealedWithKeyID: Self.storageID) == 2, "b and c are sealed")
    }

    @Test func aRegistrationCoveringOnlySomePendingKeysMakesOnlyThoseKeysSealable() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let pending = node.encryption.pendingRegistrations

        let outcome = node.machine.apply([try Self.registration([pending[0]], index: 5)])

        #expect(outcome.halt == nil && outcome.appliedIndex == 5)
        #expect(try Self.maySeal(node) == (true, false))
        #expect(node.encryption.pendingRegistrations == pending)
        #expect(node.keyringEpoch(Self.storageID) == nil)
    }

    @Test func confirmRegistrationsGivesTheLoadedKeysTheirEpochs() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }

        node.encryption.confirmRegistrations()

        #expect(node.encryption.pendingRegistrations.isEmpty)
        #expect(node.keyringEpoch(Self.storageID) == 1 && node.keyringEpoch(Self.raftID) == 1)
    }

    // MARK: - Re-deriving after a rollback

    @Test func rederivePendingEpochMovesPastTheGivenEpochDurablyAndReturnsTheNewBatch() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }

        let batch = try node.encryption.rederivePendingEpoch(of: Self.storageID, above: 4)

        #expect(batch == Self.mine(node, storage: 5, raft: 1))
        #expect(node.encryption.pendingRegistrations == batch)
        let written = try #require(try Self.sidecarOnDisk(dir))
        #expect(written.keys[Self.storageID]?.localEpoch == 5)
        #expect(written.keys[Self.raftID]?.localEpoch == 1)
        #expect(node.encryption.applier.sealingLocalEpoch(for: Self.storageID) == 5)
        #expect(node.keyringEpoch(Self.storageID) == nil, "the new epoch is not registered yet")
    }

    @Test func rederivePendingEpochNeverLowersTheEpoch() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        _ = try node.encryption.rederivePendingEpoch(of: Self.storageID, above: 6)

        let batch = try node.encryption.rederivePendingEpoch(of: Self.storageID, above: 2)

        #expect(batch == Self.mine(node, storage: 7, raft: 1))
        #expect(try Self.sidecarOnDisk(dir)?.keys[Self.storageID]?.localEpoch == 7)
    }

    @Test func rederivePendingEpochAboveTheLastEpochReturnsNilAndChangesNothing() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let before = try Self.sidecarOnDisk(dir)

        #expect(try node.encryption.rederivePendingEpoch(of: Self.storageID, above: .max) == nil)

        #expect(try Self.sidecarOnDisk(dir) == before)
        #expect(node.encryption.pendingRegistrations == Self.mine(node, storage: 1, raft: 1))
    }

    @Test func aRegistrationRefusedAsRollbackIsRecoveredByTheRederivedBatch() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let pending = node.encryption.pendingRegistrations
        // The registry already holds a later epoch of this node, e.g. from a sidecar restored from a backup.
        let later = Self.mine(node, storage: 7, raft: 7)
        #expect(
            WriterRegistry.confirmation(
                of: pending, rows: try Self.appliedRows(node, pending), committed: [later, pending])
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.storageID, fullNodeID: node.identity.fullNodeID, lastSeenLocalEpoch: 7,
                        claimedLocalEpoch: 1)))
        #expect(
            node.machine.apply([try Self.registration(later, index: 5), try Self.registration(pending, index: 6)])
                .halt == nil)
        #expect(try Self.maySeal(node) == (false, false), "the rows hold epoch 7; this process seals with 1")
        #expect(node.encryption.pendingRegistrations == pending)
        #expect(node.keyringEpoch(Self.storageID) == nil)

        _ = try node.encryption.rederivePendingEpoch(of: Self.storageID, above: 7)
        let batch = try #require(try node.encryption.rederivePendingEpoch(of: Self.raftID, above: 7))
        #expect(batch == Self.mine(node, storage: 8, raft: 8))
        #expect(node.machine.apply([try Self.registration(batch, index: 7)]).halt == nil)
        #expect(try Self.maySeal(node) == (true, true))
        #expect(node.encryption.pendingRegistrations == batch)
        node.encryption.confirmRegistrations()
        let outcome = node.machine.apply([EncryptionIntegrationTests.set("c", "SECRET-C", index: 8)])

        #expect(outcome.halt == nil && outcome.appliedIndex == 8)
        #expect(node.encryption.pendingRegistrations.isEmpty)
        #expect(node.keyringEpoch(Self.storageID) == 8 && node.keyringEpoch(Self.raftID) == 8)
        #expect(try EncryptionIntegrationTests.value(node, "c") == "SECRET-C")
    }

    // MARK: - Registrations stay cleartext after the cut-over

    @Test func wrapForProposalLeavesARegistrationCleartextWhileOtherPayloadsCannotSealYet() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir, raftCutover: true)
        defer { node.close() }
        #expect(node.encryption.raftCutover.cutoverIndex == 5)
        let registration = try Self.registration(node.encryption.pendingRegistrations, index: 6).data
        let command = EncryptionIntegrationTests.set("c", "SECRET-C", index: 6).data

        #expect(try node.encryption.wrapForProposal(registration) == registration)
        #expect(throws: EnvelopeError.localEpochNotSet(Self.raftID)) { try node.encryption.wrapForProposal(command) }
    }

    @Test func wrapForProposalLeavesARegistrationCleartextOnANodeThatSeals() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir, raftCutover: true)
        defer { node.close() }
        node.encryption.confirmRegistrations()
        let registration = try Self.registration(Self.mine(node, storage: 1, raft: 1), index: 6).data
        let command = EncryptionIntegrationTests.set("c", "SECRET-C", index: 6).data

        let wrappedCommand = try node.encryption.wrapForProposal(command)

        #expect(try node.encryption.wrapForProposal(registration) == registration)
        #expect(wrappedCommand.first == EnvelopeHeader.currentVersion && wrappedCommand != command)
    }

    @Test func unwrapPayloadAcceptsACleartextRegistrationAfterTheCutover() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir, raftCutover: true)
        defer { node.close() }
        let registration = try Self.registration(node.encryption.pendingRegistrations, index: 6).data

        #expect(try node.encryption.unwrapPayload(registration, index: 6) == registration)
        #expect(throws: ApplyHalt(index: 6, reason: .cleartextAfterCutover(cutover: 5))) {
            try node.encryption.unwrapPayload(EncryptionIntegrationTests.set("c", "x", index: 6).data, index: 6)
        }
    }

    @Test func aCleartextRegistrationAfterTheCutoverAppliesAndMakesMaySealTrue() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir, raftCutover: true)
        defer { node.close() }
        let registration = try Self.registration(node.encryption.pendingRegistrations, index: 6)
        let command = EncryptionIntegrationTests.set("c", "SECRET-C", index: 7).data

        let outcome = node.machine.apply([registration])

        #expect(outcome.halt == nil && outcome.appliedIndex == 6)
        #expect(try Self.maySeal(node) == (true, true))
        #expect(!node.encryption.pendingRegistrations.isEmpty)
        #expect(throws: EnvelopeError.localEpochNotSet(Self.raftID)) { try node.encryption.wrapForProposal(command) }
        node.encryption.confirmRegistrations()
        #expect(node.encryption.pendingRegistrations.isEmpty)
        var write = EncryptionIntegrationTests.set("c", "SECRET-C", index: 7)
        write.data = try node.encryption.wrapForProposal(write.data)
        #expect(node.machine.apply([write]).halt == nil)
        #expect(try EncryptionIntegrationTests.value(node, "c") == "SECRET-C")
    }

    // MARK: - A sidecar restored from one start ago

    /// The applied registry rows of the keys `registrations` touch.
    static func appliedRows(_ node: Node, _ registrations: [WriterRegistration]) throws
        -> [WriterRegistryKey: WriterRegistryRow]
    {
        var rows: [WriterRegistryKey: WriterRegistryRow] = [:]
        for key in Set(registrations.map(\.registryKey)) {
            if let row = try node.store.registryRow(dekID: key.dekID, node16: key.node16) {
                rows[key] = WriterRegistryRow(
                    fullNodeID: row.fullNodeID, firstSeenLocalEpoch: row.firstSeenLocalEpoch,
                    lastSeenLocalEpoch: row.lastSeenLocalEpoch)
            }
        }
        return rows
    }

    @Test func aBatchReplayingThePredecessorsAppliedRegistrationIsARollbackAndRederivingMovesTheEpochToTwoDurably()
        throws
    {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        try Self.prepareDataDirectory(dir, raftCutover: true)
        let sidecarPath = SidecarFile(dataDirectory: dir.path, fileSystem: PosixFileSystem()).path
        let sidecarBackup = try #require(FileManager.default.contents(atPath: sidecarPath))
        // The next process registers epoch 1 (committed at index 6) and stops before applying it.
        let second = try Node(dir: dir)
        let registered = second.encryption.pendingRegistrations
        #expect(registered == Self.mine(second, storage: 1, raft: 1))
        second.close()
        // The operator restores encryption/keys.json from the copy taken before that process started.
        #expect(FileManager.default.createFile(atPath: sidecarPath, contents: sidecarBackup))
        let third = try Node(dir: dir)
        defer { third.close() }
        #expect(third.encryption.pendingRegistrations == registered, "the restored sidecar bumps to the same epoch")

        #expect(third.machine.apply([try Self.registration(registered, index: 6)]).halt == nil)

        #expect(third.keyringEpoch(Self.raftID) == nil, "applying the predecessor's batch confirms nothing")
        #expect(throws: EnvelopeError.localEpochNotSet(Self.raftID)) {
            try third.encryption.wrapForProposal(EncryptionIntegrationTests.set("y", "THIRD", index: 7).data)
        }
        let rows = try Self.appliedRows(third, registered)
        #expect(rows.values.map(\.lastSeenLocalEpoch) == [1, 1])
        #expect(
            WriterRegistry.confirmation(of: registered, rows: rows, committed: [registered])
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.storageID, fullNodeID: third.identity.fullNodeID, lastSeenLocalEpoch: 1,
                        claimedLocalEpoch: 1)))
        _ = try third.encryption.rederivePendingEpoch(of: Self.storageID, above: 1)
        let rederived = try third.encryption.rederivePendingEpoch(of: Self.raftID, above: 1)
        #expect(rederived == Self.mine(third, storage: 2, raft: 2))
        let written = try #require(try Self.sidecarOnDisk(dir))
        #expect(written.keys[Self.storageID]?.localEpoch == 2 && written.keys[Self.raftID]?.localEpoch == 2)
        #expect(third.keyringEpoch(Self.raftID) == nil, "the new epoch is not registered yet")
    }
}
