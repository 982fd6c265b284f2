import DurableIO
import Encryption
import TestSupport
import Testing

/// One applier path: entries applied before (without faults), then the entry under test.
struct ApplierReplayScenario: Sendable, CustomStringConvertible {
    typealias E = SidecarTestEntries

    let name: String
    let kek: SidecarTestKEK
    let setup: [(EncryptionEntry, UInt64)]
    let entry: EncryptionEntry
    let index: UInt64
    /// The cut-over the installer must have been given after the entry, if any.
    let cutover: UInt64?

    var description: String { name }

    static let kek = SidecarTestKEK(generation: 1)
    static let bootstrap = (E.bootstrap(kek: kek), UInt64(10))
    static let rotation = (E.rotate(kek: kek, id: 77, purpose: .storage, seed: 9), UInt64(20))

    static let all: [ApplierReplayScenario] = {
        let rotating = SidecarTestKEK(generation: 2, alsoAccepts: [1])
        let rewrap = EncryptionEntry.rewrapDEKs([
            .init(keyID: E.storageID, wrapped: WrappedDEK(try! rotating.wrap(sidecarTestDEK(1)))),
            .init(keyID: E.raftID, wrapped: WrappedDEK(try! rotating.wrap(sidecarTestDEK(2)))),
        ])
        let registration = EncryptionEntry.writerRegistration([
            WriterRegistration(dekID: E.storageID, fullNodeID: sidecarTestMembers[0].fullNodeID, localEpoch: 1)
        ])
        return [
            .init(name: "bootstrap", kek: kek, setup: [], entry: bootstrap.0, index: 10, cutover: nil),
            .init(name: "rotate-dek", kek: kek, setup: [bootstrap], entry: rotation.0, index: 20, cutover: nil),
            .init(name: "rewrap-deks", kek: rotating, setup: [bootstrap], entry: rewrap, index: 20, cutover: nil),
            .init(
                name: "retire-dek", kek: kek, setup: [bootstrap, rotation], entry: .retireDEK(E.storageID), index: 30,
                cutover: nil),
            .init(
                name: "enable-storage-envelope", kek: kek, setup: [bootstrap], entry: .enableStorageEnvelope,
                index: 20, cutover: nil),
            .init(
                name: "enable-raft-envelope", kek: kek, setup: [bootstrap], entry: .enableRaftEnvelope, index: 20,
                cutover: 20),
            .init(
                name: "writer registration", kek: kek, setup: [bootstrap], entry: registration, index: 15,
                cutover: nil),
        ]
    }()

    /// A started node that applied the setup entries, and its applier.
    func preparedNode(seed: UInt64 = 7) throws -> (SidecarTestNode, EncryptionState, EncryptionApplier) {
        let node = SidecarTestNode(kek: kek, seed: seed)
        let (state, applier) = try node.startApplier()
        for (entry, index) in setup { #expect(try applier.apply(payload: entry.payload, index: index) == .applied) }
        return (node, state, applier)
    }

    func observe(_ node: SidecarTestNode, _ keystore: Keystore) -> SidecarObservedState {
        SidecarObservedState(
            node: node, keystore: keystore,
            registryRows: (node.registry as! InMemoryWriterRegistryStore).allRows)
    }
}

@Suite("Applier: crash, recover and replay")
struct ApplierReplayTests {
    /// The state after applying the scenario once without faults.
    static func reference(_ scenario: ApplierReplayScenario) throws -> SidecarObservedState {
        let (node, state, applier) = try scenario.preparedNode()
        #expect(try applier.apply(payload: scenario.entry.payload, index: scenario.index) == .applied)
        return scenario.observe(node, state.keystore)
    }

    static func epochs(_ sidecar: Sidecar?) -> [KeyID: UInt16] {
        (sidecar?.keys ?? [:]).mapValues(\.localEpoch)
    }

    @Test(
        "a crash at every file-system operation, then restart and replay, converges",
        arguments: ApplierReplayScenario.all)
    func crashAtEveryOperation(scenario: ApplierReplayScenario) throws {
        let expected = try Self.reference(scenario)
        var step = 0
        while true {
            let (node, _, applier) = try scenario.preparedNode(seed: UInt64(step))
            let epochsBefore = Self.epochs(try node.sidecarFile.read())
            let crashAt = node.fileSystem.operationCount + step
            node.fileSystem.faultPolicy = { $0.number == crashAt ? .crash : nil }
            do {
                #expect(try applier.apply(payload: scenario.entry.payload, index: scenario.index) == .applied)
                break
            } catch {
                #expect(error.isRetryable, "crash at step \(step): \(error)")
            }
            node.fileSystem.crash(tearUnsyncedWrites: true)
            node.fileSystem.faultPolicy = { _ in nil }
            let (state, restarted) = try node.startApplier()
            for (id, epoch) in Self.epochs(state.sidecar) where epochsBefore[id] != nil {
                #expect(epoch > epochsBefore[id]!, "restart must move DEK \(id)'s epoch forward")
            }
            let outcome = try restarted.apply(payload: scenario.entry.payload, index: scenario.index)
            #expect(outcome == .applied || outcome == .alreadyApplied, "step \(step)")
            #expect(try restarted.apply(payload: scenario.entry.payload, index: scenario.index) == .alreadyApplied)
            #expect(scenario.observe(node, state.keystore) == expected, "crash at step \(step)")
            if let cutover = scenario.cutover { #expect(node.installs.indexes.last == cutover) }
            step += 1
        }
        let writesSidecar = scenario.name != "writer registration"
        #expect(writesSidecar ? step == 6 : step == 0, "the sidecar write takes six operations")
    }

    @Test(
        "a failure at every file-system operation, then applying again, converges", arguments: ApplierReplayScenario.all
    )
    func failAtEveryOperation(scenario: ApplierReplayScenario) throws {
        let expected = try Self.reference(scenario)
        for step in 0..<6 {
            let (node, state, applier) = try scenario.preparedNode()
            let failAt = node.fileSystem.operationCount + step
            node.fileSystem.faultPolicy = { $0.number == failAt ? .fail : nil }
            let firstOutcome: ApplyOutcome?
            do { firstOutcome = try applier.apply(payload: scenario.entry.payload, index: scenario.index) } catch {
                #expect(error.isRetryable)
                firstOutcome = nil
            }
            node.fileSystem.faultPolicy = { _ in nil }
            if firstOutcome == nil {
                #expect(try applier.apply(payload: scenario.entry.payload, index: scenario.index) == .applied)
            }
            #expect(scenario.observe(node, state.keystore) == expected, "failure at step \(step)")
        }
    }

    @Test(
        "a registry store failure at every write, then applying again, converges", arguments: ApplierReplayScenario.all)
    func registryFailure(scenario: ApplierReplayScenario) throws {
        let expected = try Self.reference(scenario)
        for failing in 0..<8 {
            let store = SidecarFailingRegistryStore()
            let node = SidecarTestNode(kek: scenario.kek, registry: store)
            let (state, applier) = try node.startApplier()
            for (entry, index) in scenario.setup { _ = try applier.apply(payload: entry.payload, index: index) }
            store.failWriteNumber = store.writes + failing
            let failed: Bool
            do {
                _ = try applier.apply(payload: scenario.entry.payload, index: scenario.index)
                failed = false
            } catch {
                #expect(error.isRetryable)
                failed = true
            }
            store.failWriteNumber = nil
            let retried = try applier.apply(payload: scenario.entry.payload, index: scenario.index)
            #expect(failed ? retried == .applied || retried == .alreadyApplied : retried == .alreadyApplied)
            let observed = SidecarObservedState(node: node, keystore: state.keystore, registryRows: store.inner.allRows)
            #expect(observed == expected, "registry failure at write \(failing)")
        }
    }

}
