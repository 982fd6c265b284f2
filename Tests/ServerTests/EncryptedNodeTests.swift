@testable import ControlPlane
import Encryption
import Foundation
import KV
import Logging
import RESP
import Server
import Testing
import TestSupport

/// One encrypted member end to end without sockets: Phase 1 and Phase 2 on a node holding cleartext data,
/// rotation, restarts (writer re-registration), the start-up refusals and `resync-sidecar`.
@Suite struct EncryptedNodeTests {
    static let secretAfterCutover = "SECRET-AFTER-CUTOVER-5c1e"

    static func configuration(_ dir: TemporaryDirectory, kek: String?, enabled: Bool = true) -> NodeConfiguration {
        var configuration = NodeConfiguration(dataDirectory: dir.file("data"), metricsAddress: nil)
        configuration.initialCluster = [.init(name: "n1", address: configuration.grpcAddress)]
        configuration.encryptionEnabled = enabled
        configuration.kekFile = kek
        return configuration
    }

    static func writeKEK(_ path: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
    }

    static func open(_ dir: TemporaryDirectory, kek: String?) async throws -> (ReplicatedNode, NodeRedisBackend) {
        let node = try await ReopeningNode.open { try NodeStartup.open(configuration(dir, kek: kek), logger: Logger(label: "test")) }
        await node.campaignIfSoleVoter()
        return (node, NodeRedisBackend(node: node, store: node.store) { "" })
    }

    static func set(_ backend: NodeRedisBackend, _ key: String, _ value: String) async throws -> CommandResult {
        try await backend.execute(.set(key: Array(key.utf8), value: Array(value.utf8), condition: .always,
                                       expiry: .none, returnOld: false))
    }

    static func get(_ backend: NodeRedisBackend, _ key: String) async throws -> RESPValue {
        try await backend.read(.get(Array(key.utf8)))
    }

    /// Retries a write while the node finishes its restart registration (a retryable error).
    static func eventuallySet(_ backend: NodeRedisBackend, _ key: String, _ value: String) async throws {
        for _ in 0..<200 {
            if (try? await set(backend, key, value)) == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("write of \(key) never succeeded")
    }

    /// Every file under `directory` that contains `needle`, searched byte by byte.
    static func files(under directory: String, containing needle: String) -> [String] {
        let needleData = Data(needle.utf8)
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var hits: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            if data.range(of: needleData) != nil { hits.append(relative) }
        }
        return hits
    }

    @Test func cleartextNodeGoesThroughBothPhasesAndRestarts() async throws {
        let dir = TemporaryDirectory("encrypted-node")
        defer { dir.remove() }
        let kek = dir.file("kek")
        Self.writeKEK(kek)
        let oldSidecar: Data
        do {
            let (node, backend) = try await Self.open(dir, kek: kek)
            #expect(try await Self.set(backend, "plain", "cleartext-before") == .ok)
            let phase1 = try await node.enableStorageEnvelope()
            #expect(phase1.index > 0)
            #expect(try await Self.set(backend, "sealed", "storage-sealed") == .ok)
            oldSidecar = try Data(contentsOf: URL(fileURLWithPath: dir.file("data/encryption/keys.json")))
            let phase2 = try await node.enableRaftEnvelope()
            #expect(phase2.index > phase1.index)
            #expect(try await Self.set(backend, "after", Self.secretAfterCutover) == .ok)
            #expect(try await Self.get(backend, "plain") == .bulk("cleartext-before"))
            let state = try await node.encryptionState(node16: nil)
            #expect(state.storageEnvelopeActive)
            #expect(state.raftEnvelopeCutoverIndex == phase2.index)
            #expect(state.keys.map(\.purpose).sorted(by: { $0.rawValue < $1.rawValue }) == [.index, .raft, .storage],
                    "Phase 1 creates the index key with the first DEKs")
            #expect(await node.capability().encryptionCapable)
            let info = node.info.render(nodeName: "n1")
            #expect(info.contains("role:master\r\n") && info.contains("elastickv_storage_envelope_active:1\r\n"))
            #expect(info.contains("elastickv_raft_envelope_cutover_index:\(phase2.index)\r\n"))
            let again = try await node.enableRaftEnvelope()
            #expect(again.index == 0, "a second enable changes nothing")
            await node.close()
        }
        #expect(Self.files(under: dir.file("data"), containing: Self.secretAfterCutover).isEmpty)
        #expect(!Self.files(under: dir.file("data"), containing: "cleartext-before").isEmpty,
                "the search finds what was written before Phase 1, so it does look at the files")

        // A restart registers the bumped epoch before sealing again; reads and writes work after it.
        do {
            let (node, backend) = try await Self.open(dir, kek: kek)
            try await Self.eventuallySet(backend, "after-restart", "v2")
            #expect(try await Self.get(backend, "after") == .bulk(Self.secretAfterCutover))
            #expect(await node.capability().localEpoch == 1)
            let storage = try await node.rotateDEK(purpose: .storage)
            let raft = try await node.rotateDEK(purpose: .raft)
            #expect(storage.index > 0 && raft.index > storage.index)
            #expect(try await Self.set(backend, "rotated", "v3") == .ok)
            let state = try await node.encryptionState(node16: nil)
            #expect(state.keys.count == 5)
            let indexKey = state.keys.first { $0.purpose == .index }!
            do {
                _ = try await node.retireDEK(keyID: indexKey.keyID)
                Issue.record("the index key was retired")
            } catch {
                #expect(error.description.contains("is the index key"), "\(error)")
            }
            await #expect(throws: EncryptionControlError.self) { try await node.rotateDEK(purpose: .index) }
            let oldStorage = state.keys.first { $0.purpose == .storage && $0.keyID != state.activeStorageKeyID }!
            do {
                _ = try await node.retireDEK(keyID: oldStorage.keyID)
                Issue.record("a storage DEK that still seals stored versions was retired")
            } catch {
                #expect(error.description.contains("n1 stores"), "\(error)")
                #expect(error.description.contains("elastickv-admin encryption rewrite --wait"), "\(error)")
            }
            let oldRaft = state.keys.first { $0.purpose == .raft && $0.keyID != state.activeRaftKeyID }!
            #expect(await node.capability().raftLogKeyIDs.contains(oldRaft.keyID), "its entries are in the log")
            let usage = try await node.keyUsage()
            #expect(usage.keys.first { $0.keyID == oldRaft.keyID }.map { $0.logEntries > 0 } == true, "\(usage)")
            #expect(usage.keys.first { $0.keyID == oldStorage.keyID }.map { $0.storedVersions > 0 } == true)
            do {
                _ = try await node.retireDEK(keyID: oldRaft.keyID)
                Issue.record("a raft DEK that still seals log entries was retired")
            } catch {
                #expect(error.description.contains("n1's Raft log holds"), "\(error)")
                #expect(error.description.contains("elastickv-admin cluster snapshot"), "\(error)")
            }
            // `cluster snapshot` on every member (here one) lets the log go of the old raft DEK's entries.
            #expect(try await node.snapshotAndCompact() > 0)
            #expect(try await node.keyUsage().keys.first { $0.keyID == oldRaft.keyID }?.logEntries == 0)
            _ = try await node.retireDEK(keyID: oldRaft.keyID)
            #expect(try await node.keyUsage().keys.contains { $0.keyID == oldRaft.keyID } == false)
            #expect(try await node.encryptionState(node16: nil).keys.count == 4)
            await node.close()
        }
        do {
            let (node, backend) = try await Self.open(dir, kek: kek)
            for (key, value) in [("plain", "cleartext-before"), ("sealed", "storage-sealed"),
                                 ("after", Self.secretAfterCutover), ("rotated", "v3")] {
                #expect(try await Self.get(backend, key) == .bulk(value))
            }
            await node.close()
        }

        // Refusals: wrong KEK, no KEK, no flag, and a sidecar restored from an older copy.
        let wrongKEK = dir.file("wrong-kek")
        Self.writeKEK(wrongKEK)
        #expect(Self.startFailure(dir, kek: wrongKEK).contains("ErrKEKMismatch"))
        #expect(Self.startFailure(dir, kek: nil).contains("ErrKEKRequired"))
        #expect(Self.startFailure(dir, kek: kek, enabled: false).contains("ErrSidecarPresentWithoutFlag"))
        try oldSidecar.write(to: URL(fileURLWithPath: dir.file("data/encryption/keys.json")))
        #expect(Self.startFailure(dir, kek: kek).contains("ErrSidecarBehindRaftLog"))
        let provider = try FileKEKProvider(path: kek)
        let resynced = try SidecarResync.run(dataDirectory: dir.file("data"), nodeName: "n1", kekProvider: provider)
        #expect(resynced.keys.count == 4)
        #expect(resynced.keys.values.allSatisfy { $0.localEpoch >= 1 || $0.purpose == .index },
                "local epochs never move backwards (the index key seals nothing and has none)")
        let (node, backend) = try await Self.open(dir, kek: kek)
        try await Self.eventuallySet(backend, "after-resync", "v4")
        #expect(try await Self.get(backend, "rotated") == .bulk("v3"))
        await node.close()
    }

    /// A store and sidecar put back from a copy taken before the last start: the registration that start
    /// committed is still in the log, so the node must move past its epoch instead of sealing with it again.
    @Test func aDataDirRestoredFromAnOlderCopyMovesPastEveryEpochUsedSince() async throws {
        let dir = TemporaryDirectory("encrypted-node-restore")
        defer { dir.remove() }
        let kek = dir.file("kek")
        Self.writeKEK(kek)
        do {
            let (node, backend) = try await Self.open(dir, kek: kek)
            _ = try await node.enableStorageEnvelope()
            _ = try await node.enableRaftEnvelope()
            #expect(try await Self.set(backend, "before", "v1") == .ok)
            await node.close()
        }
        let saved = try Self.copyStoreAndSidecar(from: dir.file("data"), to: dir.file("saved"))
        do {
            let (node, backend) = try await Self.open(dir, kek: kek)
            try await Self.eventuallySet(backend, "during", "v2")
            #expect(await node.capability().localEpoch == 1)
            await node.close()
        }
        try Self.restoreStoreAndSidecar(saved, from: dir.file("saved"), to: dir.file("data"))
        let (node, backend) = try await Self.open(dir, kek: kek)
        try await Self.eventuallySet(backend, "after", "v3")
        #expect(await node.capability().localEpoch == 2, "epoch 1 was registered (and sealed with) since the copy")
        #expect(try await Self.get(backend, "during") == .bulk("v2"))
        await node.close()
    }

    static let storeAndSidecarFiles = ["kv.db", "kv.db-wal", "kv.db-shm", "encryption/keys.json"]

    /// Copies the store's files and the sidecar; returns the ones that existed.
    static func copyStoreAndSidecar(from data: String, to saved: String) throws -> [String] {
        let files = FileManager.default
        try files.createDirectory(atPath: saved + "/encryption", withIntermediateDirectories: true)
        let present = storeAndSidecarFiles.filter { files.fileExists(atPath: data + "/" + $0) }
        for name in present { try files.copyItem(atPath: data + "/" + name, toPath: saved + "/" + name) }
        return present
    }

    static func restoreStoreAndSidecar(_ present: [String], from saved: String, to data: String) throws {
        let files = FileManager.default
        for name in storeAndSidecarFiles where files.fileExists(atPath: data + "/" + name) {
            try files.removeItem(atPath: data + "/" + name)
        }
        for name in present { try files.copyItem(atPath: saved + "/" + name, toPath: data + "/" + name) }
    }

    static func startFailure(_ dir: TemporaryDirectory, kek: String?, enabled: Bool = true) -> String {
        do {
            let node = try NodeStartup.open(configuration(dir, kek: kek, enabled: enabled), logger: Logger(label: "t"))
            Task { await node.close() }
            return "started"
        } catch {
            return error.description
        }
    }
}
