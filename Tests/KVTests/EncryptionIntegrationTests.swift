import DurableIO
import Encryption
import Foundation
import KV
import Storage
import Testing
import TestSupport

/// The encryption life cycle through the state machine: cleartext data, bootstrap, storage envelope on,
/// sealed writes, restart with an epoch bump, replays and a crash between the sidecar and the store commit.
@Suite struct EncryptionIntegrationTests {
    final class Node {
        let dir: TemporaryDirectory
        let identity = NodeIdentity(name: "n1")
        let kek: FileKEKProvider
        var store: MVCCStore
        var encryption: KVEncryption
        var machine: KVStateMachine

        init(dir: TemporaryDirectory) throws {
            self.dir = dir
            let kekPath = dir.file("kek")
            if !FileManager.default.fileExists(atPath: kekPath) {
                var generator = SystemRandomNumberGenerator()
                let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
                FileManager.default.createFile(atPath: kekPath, contents: Data(bytes),
                                               attributes: [.posixPermissions: 0o600])
            }
            kek = try FileKEKProvider(path: kekPath)
            store = try MVCCStore(path: dir.file("kv.db"))
            let state = try EncryptionStartup.start(
                encryptionEnabled: true, kekProvider: kek, dataDirectory: dir.path, fileSystem: PosixFileSystem(),
                identity: identity, registry: StoreWriterRegistry(store: store))!
            encryption = try KVEncryption(state: state, store: store)
            machine = KVStateMachine(store: store, encryptionApplier: encryption)
        }

        func close() { store.close() }
    }

    static func set(_ key: String, _ value: String, index: UInt64) -> CommittedEntry {
        let command = Command.set(key: Array(key.utf8), value: Array(value.utf8), condition: .always, expiry: .none,
                                  returnOld: false)
        let entry = CommandEntry(proposedTS: index * 10, nowMillis: 1_000, commands: [command])
        return CommittedEntry(index: index, term: 1, data: entry.encoded())
    }

    static func bootstrap(_ node: Node, index: UInt64) throws -> CommittedEntry {
        let storage = DataEncryptionKey.generate(), raft = DataEncryptionKey.generate()
        let body = EncryptionEntry.Bootstrap(
            createdUnixSeconds: 1_700_000_000,
            storageKey: .init(keyID: 0x0102_0304, purpose: .storage, wrapped: WrappedDEK(try node.kek.wrap(storage))),
            raftKey: .init(keyID: 0x0A0B_0C0D, purpose: .raft, wrapped: WrappedDEK(try node.kek.wrap(raft))),
            registrations: [0x0102_0304, 0x0A0B_0C0D].map {
                WriterRegistration(dekID: $0, fullNodeID: node.identity.fullNodeID, localEpoch: 0)
            })
        return CommittedEntry(index: index, term: 1, data: try EncryptionEntry.bootstrap(body).encoded())
    }

    static func log(_ node: Node) throws -> [CommittedEntry] {
        [
            set("a", "plain-A", index: 1),
            try bootstrap(node, index: 2),
            CommittedEntry(index: 3, term: 1, data: try EncryptionEntry.enableStorageEnvelope.encoded()),
            set("b", "SECRET-B-7e1f", index: 4),
            set("a", "SECRET-A-93c2", index: 5),
            CommittedEntry(index: 6, term: 1, data: try EncryptionEntry.enableRaftEnvelope.encoded()),
        ]
    }

    static func value(_ node: Node, _ key: String) throws -> String? {
        guard case .string(let bytes)? = try KVReader(store: node.store).lookup(Array(key.utf8), nowMillis: 0)?.value
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func cleartextDataStaysReadableAndLaterWritesAreSealed() throws {
        let dir = TemporaryDirectory("kv-encryption")
        defer { dir.remove() }
        let node = try Node(dir: dir)
        let log = try Self.log(node)
        let outcome = node.machine.apply(log)
        #expect(outcome.halt == nil)
        #expect(outcome.appliedIndex == 6)
        #expect(try Self.value(node, "a") == "SECRET-A-93c2")
        #expect(try Self.value(node, "b") == "SECRET-B-7e1f")
        let versions = try node.store.versions(of: RedisKeyspace.primary(Array("a".utf8)))
        #expect(versions.map { String(decoding: $0.body.dropFirst(), as: UTF8.self) } == ["SECRET-A-93c2", "plain-A"])
        #expect(node.encryption.applier.sidecar?.storageEnvelopeActive == true)
        #expect(node.encryption.applier.sidecar?.raftEnvelopeCutoverIndex == 6)
        #expect(node.keyringEpoch(0x0102_0304) == 0)
        #expect(try node.store.sealCounts() == [0x0102_0304: 2], "two values were sealed, the raft key sealed nothing")
        try node.store.checkpoint()
        let database = try Data(contentsOf: URL(fileURLWithPath: dir.file("kv.db")))
        #expect(database.range(of: Data("SECRET-B-7e1f".utf8)) == nil)
        #expect(database.range(of: Data("SECRET-A-93c2".utf8)) == nil)
        #expect(database.range(of: Data("plain-A".utf8)) != nil, "cleartext written before the switch stays")
        // Re-delivering the whole log changes nothing.
        #expect(node.machine.apply(log).appliedIndex == 6)
        node.close()

        let restarted = try Node(dir: dir)
        defer { restarted.close() }
        #expect(restarted.encryption.raftCutover.cutoverIndex == 6)
        #expect(restarted.keyringEpoch(0x0102_0304) == nil, "no sealing before the new epoch is registered")
        #expect(restarted.encryption.pendingRegistrations.map(\.localEpoch) == [1, 1], "every start bumps the epoch")
        #expect(try Self.value(restarted, "a") == "SECRET-A-93c2")
        let registration = CommittedEntry(index: 7, term: 2, data: try EncryptionEntry.writerRegistration(
            restarted.encryption.pendingRegistrations).encoded())
        #expect(restarted.machine.apply([registration]).halt == nil)
        #expect(try restarted.encryption.applier.maySeal(under: 0x0102_0304, as: restarted.identity))
        // The node confirms once it sees the registration committed (ReplicatedNode+Registration).
        restarted.encryption.confirmRegistrations()
        #expect(restarted.keyringEpoch(0x0102_0304) == 1)
        var write = Self.set("c", "SECRET-C", index: 8)
        write.data = try restarted.encryption.wrapForProposal(write.data)
        #expect(write.data.first == EnvelopeHeader.currentVersion, "after the cut-over, proposals are raft envelopes")
        #expect(restarted.machine.apply([write]).halt == nil)
        #expect(try restarted.encryption.applier.maySeal(under: 0x0102_0304, as: restarted.identity))
        #expect(try Self.value(restarted, "c") == "SECRET-C")
        #expect(try restarted.store.sealCounts() == [0x0102_0304: 3, 0x0A0B_0C0D: 1],
                "the opened raft envelope counts once, beside the value it sealed")

        // After the cut-over, a cleartext command entry halts apply; a tampered envelope too.
        let cleartext = restarted.machine.apply([Self.set("d", "x", index: 9)])
        #expect(cleartext.appliedIndex == 8)
        guard case .encryption(let halt) = cleartext.halt?.cause, case .cleartextAfterCutover(6) = halt.reason else {
            Issue.record("expected ErrEnvelopeCutoverDivergence, got \(String(describing: cleartext.halt))")
            return
        }
        #expect(halt.description.contains("ErrEnvelopeCutoverDivergence"))
        var tampered = Self.set("d", "x", index: 9)
        tampered.data = try restarted.encryption.wrapForProposal(tampered.data)
        tampered.data[tampered.data.count - 1] ^= 1
        let unreadable = restarted.machine.apply([tampered])
        #expect(unreadable.appliedIndex == 8)
        guard case .encryption(let tamperHalt) = unreadable.halt?.cause,
              case .raftEnvelopeUnreadable = tamperHalt.reason
        else {
            Issue.record("expected an unreadable raft envelope, got \(String(describing: unreadable.halt))")
            return
        }
    }

    @Test func crashBetweenSidecarWriteAndStoreCommitConverges() throws {
        let dir = TemporaryDirectory("kv-encryption-crash")
        defer { dir.remove() }
        let node = try Node(dir: dir)
        let log = try Self.log(node)
        #expect(node.machine.apply([log[0]]).appliedIndex == 1)
        node.store.setStepHook { step in if step == "commit" { throw StorageError.sealerUnavailable } }
        let failed = node.machine.apply(Array(log[1...]))
        #expect(failed.halt != nil)
        #expect(try node.store.appliedIndex() == 1)
        #expect(node.encryption.applier.sidecar?.raftAppliedIndex == 6, "the sidecar got ahead of the store")
        node.close()

        let restarted = try Node(dir: dir)
        defer { restarted.close() }
        restarted.encryption.confirmRegistrations()
        let outcome = restarted.machine.apply(log)
        #expect(outcome.halt == nil)
        #expect(outcome.appliedIndex == 6)
        #expect(try Self.value(restarted, "b") == "SECRET-B-7e1f")
        #expect(try restarted.store.registryRow(dekID: 0x0102_0304, node16: restarted.identity.node16) != nil)
    }
}

extension EncryptionIntegrationTests.Node {
    func keyringEpoch(_ keyID: KeyID) -> UInt16? { encryption.keyring.localEpoch(for: keyID) }
}
