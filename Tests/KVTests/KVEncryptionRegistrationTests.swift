import DurableIO
import Encryption
import Foundation
import KV
import Storage
import TestSupport
import Testing

/// A restarted node's writer registration (DESIGN §3.6) through ``KVEncryption``: the loaded keys seal only
/// once the cluster committed the new epochs, a refused registration is re-derived durably, and writer
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

    @Test func applyingTheNodesOwnRegistrationConfirmsItAndSealingWorks() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let pending = node.encryption.pendingRegistrations

        let outcome = node.machine.apply([
            try Self.registration(pending, index: 5), EncryptionIntegrationTests.set("c", "SECRET-C", index: 6),
        ])

        #expect(outcome.halt == nil && outcome.appliedIndex == 6)
        #expect(node.encryption.pendingRegistrations.isEmpty)
        #expect(node.keyringEpoch(Self.storageID) == 1 && node.keyringEpoch(Self.raftID) == 1)
        #expect(try EncryptionIntegrationTests.value(node, "c") == "SECRET-C")
        #expect(try node.store.countVersions(sealedWithKeyID: Self.storageID) == 2, "b and c are sealed")
    }

    @Test func aRegistrationCoveringOnlySomePendingKeysDoesNotConfirm() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir)
        defer { node.close() }
        let pending = node.encryption.pendingRegistrations

        let outcome = node.machine.apply([try Self.registration([pending[0]], index: 5)])

        #expect(outcome.halt == nil && outcome.appliedIndex == 5)
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
            node.machine.apply([try Self.registration(later, index: 5), try Self.registration(pending, index: 6)])
                .halt == nil)
        #expect(node.encryption.pendingRegistrations == pending, "a refused registration confirms nothing")
        #expect(node.keyringEpoch(Self.storageID) == nil)

        _ = try node.encryption.rederivePendingEpoch(of: Self.storageID, above: 7)
        let batch = try #require(try node.encryption.rederivePendingEpoch(of: Self.raftID, above: 7))
        #expect(batch == Self.mine(node, storage: 8, raft: 8))
        let outcome = node.machine.apply([
            try Self.registration(batch, index: 7), EncryptionIntegrationTests.set("c", "SECRET-C", index: 8),
        ])

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

    @Test func aCleartextRegistrationAfterTheCutoverAppliesAndConfirms() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        let node = try Self.restartedNode(dir, raftCutover: true)
        defer { node.close() }
        let registration = try Self.registration(node.encryption.pendingRegistrations, index: 6)

        let outcome = node.machine.apply([registration])

        #expect(outcome.halt == nil && outcome.appliedIndex == 6)
        #expect(node.encryption.pendingRegistrations.isEmpty)
        var write = EncryptionIntegrationTests.set("c", "SECRET-C", index: 7)
        write.data = try node.encryption.wrapForProposal(write.data)
        #expect(node.machine.apply([write]).halt == nil)
        #expect(try EncryptionIntegrationTests.value(node, "c") == "SECRET-C")
    }

    // MARK: - A sidecar restored from one start ago

    /// The 12-byte nonce of an envelope (bytes 6..<18: node16, local epoch, counter).
    static func nonce(_ envelope: [UInt8]) -> [UInt8] { Array(envelope[6..<18]) }

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

    @Test func aSidecarRestoredFromOneStartAgoMustNotSealWithTheEpochItsPreviousProcessRegistered() throws {
        let dir = TemporaryDirectory("kv-registration")
        defer { dir.remove() }
        try Self.prepareDataDirectory(dir, raftCutover: true)
        let sidecarPath = SidecarFile(dataDirectory: dir.path, fileSystem: PosixFileSystem()).path
        let sidecarBackup = try #require(FileManager.default.contents(atPath: sidecarPath))

        // The next process registers epoch 1. Its driver sees the entry committed at index 6 (not yet applied),
        // confirms as ReplicatedNode does, and seals a proposal; then the process stops before applying index 6.
        let second = try Node(dir: dir)
        let registered = second.encryption.pendingRegistrations
        #expect(registered == Self.mine(second, storage: 1, raft: 1))
        let registration = try Self.registration(registered, index: 6)
        #expect(
            WriterRegistry.confirmation(
                of: registered, rows: try Self.appliedRows(second, registered), committed: [registered])
                == .accepted)
        second.encryption.confirmRegistrations()
        let sealedBySecond = try second.encryption.wrapForProposal(
            EncryptionIntegrationTests.set("x", "SECOND", index: 7).data)
        second.close()

        // The operator restores encryption/keys.json from the copy taken before that process started.
        #expect(FileManager.default.createFile(atPath: sidecarPath, contents: sidecarBackup))
        let third = try Node(dir: dir)
        defer { third.close() }
        #expect(third.encryption.pendingRegistrations == registered, "the restored sidecar bumps to the same epoch")
        _ = third.machine.apply([registration])
        let sealedByThird = try? third.encryption.wrapForProposal(
            EncryptionIntegrationTests.set("y", "THIRD", index: 7).data)

        withKnownIssue(
            """
            Start-up derives the epoch from the restored sidecar (0) and the applied registry rows (0), so it \
            claims epoch 1 again; the committed registration of the previous process is identical, so it is \
            taken as this one's (and rule 3 would accept the equal epoch as a replay anyway); the keys are \
            confirmed and the raft DEK seals with nonce node16 || 1 || 0 a second time.
            """
        ) {
            #expect(
                sealedByThird.map { Self.nonce($0) != Self.nonce(sealedBySecond) } ?? true,
                "a process must never seal under a DEK with a nonce an earlier process used")
        }
    }
}
