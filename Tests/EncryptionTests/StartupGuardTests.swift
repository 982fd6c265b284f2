import DurableIO
import Encryption
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Start-up guards and local-epoch bump")
struct StartupGuardTests {
    typealias E = SidecarTestEntries
    static let kek = SidecarTestKEK(generation: 1)

    /// A node whose sidecar holds the standard bootstrap (epochs 0, index 10).
    static func bootstrappedNode(seed: UInt64 = 7) throws -> SidecarTestNode {
        let node = SidecarTestNode(kek: kek, seed: seed)
        let (_, applier) = try node.startApplier()
        _ = try applier.apply(payload: E.bootstrap(kek: kek).payload, index: 10)
        return node
    }

    /// Overwrites every key's epoch in the sidecar on disk.
    static func setEpochs(_ node: SidecarTestNode, _ epoch: UInt16) throws {
        var sidecar = try #require(try node.sidecarFile.read())
        for id in sidecar.keys.keys { sidecar.keys[id]!.localEpoch = epoch }
        try node.sidecarFile.write(sidecar)
    }

    static func start(
        _ node: SidecarTestNode, enabled: Bool = true, kek: (any KEKProvider)?,
        warn: (LocalEpochWarning) -> Void = { _ in }
    ) throws(StartupError) -> EncryptionState? {
        try EncryptionStartup.start(
            encryptionEnabled: enabled, kekProvider: kek, dataDirectory: node.dataDirectory,
            fileSystem: node.fileSystem, identity: node.identity, registry: node.registry, warn: warn)
    }

    @Test("encryption off and no sidecar: nothing to load")
    func disabled() throws {
        let node = SidecarTestNode()
        #expect(try Self.start(node, enabled: false, kek: nil) == nil)
        #expect(try Self.start(node, enabled: false, kek: Self.kek) == nil)
        #expect(!node.fileSystem.fileExists(at: node.sidecarFile.directory))
    }

    @Test("a sidecar without --encryption-enabled is refused")
    func sidecarWithoutFlag() throws {
        let node = try Self.bootstrappedNode()
        #expect(throws: StartupError.sidecarPresentWithoutFlag(sidecarPath: "/data/n1/encryption/keys.json")) {
            try Self.start(node, enabled: false, kek: Self.kek)
        }
    }

    @Test("--encryption-enabled without a KEK is refused, with or without a sidecar")
    func kekRequired() throws {
        #expect(throws: StartupError.kekRequired) { try Self.start(SidecarTestNode(), kek: nil) }
        #expect(throws: StartupError.kekRequired) { try Self.start(try Self.bootstrappedNode(), kek: nil) }
    }

    @Test("enabled before bootstrap: probe passes, no keys, no epochs, no sidecar")
    func enabledNotBootstrapped() throws {
        let node = SidecarTestNode()
        let state = try #require(try Self.start(node, kek: Self.kek))
        #expect(state.sidecar == nil && state.sealingLocalEpochs.isEmpty && state.keystore.keyIDs.isEmpty)
        #expect(!node.sidecarFile.exists)
    }

    @Test("a KEK that does not unwrap the sidecar is refused and nothing is written")
    func kekMismatch() throws {
        let node = try Self.bootstrappedNode()
        let before = try node.fileSystem.readFile(at: node.sidecarFile.path)
        #expect(throws: StartupError.kekMismatch(keyID: E.storageID, sidecarPath: node.sidecarFile.path)) {
            try Self.start(node, kek: SidecarTestKEK(generation: 2))
        }
        #expect(try node.fileSystem.readFile(at: node.sidecarFile.path) == before)
    }

    @Test("a failing durability probe is refused naming the encryption directory", arguments: 0..<10)
    func unsupportedFilesystem(step: Int) throws {
        let node = SidecarTestNode()
        let failAt = node.fileSystem.operationCount + step
        node.fileSystem.faultPolicy = { $0.number == failAt ? .fail : nil }
        do {
            _ = try Self.start(node, kek: Self.kek)
            Issue.record("started on a failing file system")
        } catch {
            guard case .unsupportedFilesystem(let directory, _) = error else {
                Issue.record("expected ErrUnsupportedFilesystem, got \(error)")
                return
            }
            #expect(directory == "/data/n1/encryption")
            #expect(
                error.description.hasPrefix("ErrUnsupportedFilesystem:")
                    && error.description.contains("/data/n1/encryption"))
        }
    }

    @Test("each start bumps every DEK's epoch by one, durably, before returning it")
    func bump() throws {
        let node = try Self.bootstrappedNode()
        for expected: UInt16 in 1...3 {
            let state = try #require(try Self.start(node, kek: Self.kek))
            #expect(state.sealingLocalEpochs == [E.storageID: expected, E.raftID: expected])
            node.fileSystem.crash()
            #expect(try node.sidecarFile.read()?.keys.values.map(\.localEpoch) == [expected, expected])
            #expect(state.requiredRegistrations.map(\.localEpoch) == [expected, expected])
            #expect(state.requiredRegistrations.allSatisfy { $0.fullNodeID == node.identity.fullNodeID })
        }
        #expect(try node.sidecarFile.read()?.raftAppliedIndex == 10)
    }

    @Test("the epoch continues from the registry when the registry is ahead of the sidecar")
    func registryAhead() throws {
        let node = try Self.bootstrappedNode()
        try node.registry.setRow(
            WriterRegistryRow(
                fullNodeID: node.identity.fullNodeID, firstSeenLocalEpoch: 0,
                lastSeenLocalEpoch: 9),
            for: WriterRegistryKey(dekID: E.storageID, node16: node.identity.node16))
        let state = try #require(try Self.start(node, kek: Self.kek))
        #expect(state.sealingLocalEpochs == [E.storageID: 10, E.raftID: 1])
    }

    @Test("a registry row of another node under this node16 is refused")
    func collision() throws {
        let node = try Self.bootstrappedNode()
        let other = node.identity.fullNodeID ^ 0x0100_0000_0000_0000
        try node.registry.setRow(
            WriterRegistryRow(fullNodeID: other, firstSeenLocalEpoch: 0, lastSeenLocalEpoch: 0),
            for: WriterRegistryKey(dekID: E.raftID, node16: node.identity.node16))
        #expect(
            throws: StartupError.nodeIDCollision(
                .nodeIDCollision(
                    dekID: E.raftID, node16: node.identity.node16, registeredFullNodeID: other,
                    claimingFullNodeID: node.identity.fullNodeID))
        ) { try Self.start(node, kek: Self.kek) }
    }

    @Test("an epoch at 0xFFFF is refused; from 0xFF00 on each start warns")
    func exhaustion() throws {
        let node = try Self.bootstrappedNode()
        try Self.setEpochs(node, 0xFEFE)
        let warnings = Mutex<[LocalEpochWarning]>([])
        _ = try Self.start(node, kek: Self.kek) { warning in warnings.withLock { $0.append(warning) } }
        #expect(warnings.withLock { $0.isEmpty })
        let state = try #require(
            try Self.start(node, kek: Self.kek) { warning in warnings.withLock { $0.append(warning) } })
        #expect(state.sealingLocalEpochs[E.storageID] == 0xFF00)
        #expect(warnings.withLock { $0.map(\.localEpoch) } == [0xFF00, 0xFF00])
        try Self.setEpochs(node, 0xFFFE)
        #expect(try Self.start(node, kek: Self.kek)?.sealingLocalEpochs[E.raftID] == 0xFFFF)
        let before = try node.fileSystem.readFile(at: node.sidecarFile.path)
        #expect(
            throws: StartupError.localEpochExhausted(
                keyID: E.storageID, purpose: .storage,
                sidecarPath: node.sidecarFile.path)
        ) {
            try Self.start(node, kek: Self.kek)
        }
        #expect(try node.fileSystem.readFile(at: node.sidecarFile.path) == before)
    }

    @Test("a leftover keys.json.tmp is removed and a corrupt sidecar is refused")
    func leftoverAndCorrupt() throws {
        let node = try Self.bootstrappedNode()
        let temporary = node.sidecarFile.directory + "/" + SidecarFile.temporaryFileName
        let handle = try node.fileSystem.openFile(at: temporary, mode: .truncate)
        try handle.write(Array("garbage".utf8))
        try handle.close()
        _ = try Self.start(node, kek: Self.kek)
        #expect(!node.fileSystem.fileExists(at: temporary))
        let corrupt = try node.fileSystem.openFile(at: node.sidecarFile.path, mode: .truncate)
        try corrupt.write(Array("{".utf8))
        try corrupt.close()
        #expect(throws: StartupError.self) { try Self.start(node, kek: Self.kek) }
    }

    @Test(
        "a crash at any step of the bump never leaves a disk epoch below one already returned",
        arguments: [false, true])
    func crashDuringBump(tear: Bool) throws {
        var step = 0
        while true {
            let node = try Self.bootstrappedNode(seed: UInt64(step))
            let first = try #require(try Self.start(node, kek: Self.kek))
            let crashAt = node.fileSystem.operationCount + step
            node.fileSystem.faultPolicy = { $0.number == crashAt ? .crash : nil }
            let second = try? Self.start(node, kek: Self.kek)
            node.fileSystem.crash(tearUnsyncedWrites: tear)
            node.fileSystem.faultPolicy = { _ in nil }
            let returned = [first.sealingLocalEpochs, second?.sealingLocalEpochs ?? [:]]
            let onDisk = try #require(try node.sidecarFile.read()).keys.mapValues(\.localEpoch)
            for epochs in returned {
                for (id, epoch) in epochs { #expect(onDisk[id]! >= epoch, "step \(step): DEK \(id)") }
            }
            let third = try #require(try Self.start(node, kek: Self.kek))
            for epochs in returned {
                for (id, epoch) in epochs { #expect(third.sealingLocalEpochs[id]! > epoch, "step \(step): DEK \(id)") }
            }
            if second != nil { break }
            step += 1
        }
        #expect(step > 6)
    }

    @Test("bootstrap, restart and bump work on the real file system")
    func posix() throws {
        var template = Array("/tmp/elastickv-startup-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        let fileSystem = PosixFileSystem()
        let identity = sidecarTestMembers[0]
        let start = { () throws(StartupError) -> EncryptionState in
            try EncryptionStartup.start(
                encryptionEnabled: true, kekProvider: Self.kek, dataDirectory: directory, fileSystem: fileSystem,
                identity: identity)!
        }
        let applier = try start().makeApplier(registry: InMemoryWriterRegistryStore(), installRaftEnvelope: { _ in })
        #expect(try applier.apply(payload: E.bootstrap(kek: Self.kek).payload, index: 10) == .applied)
        #expect(try start().sealingLocalEpochs == [E.storageID: 1, E.raftID: 1])
        #expect(try start().sealingLocalEpochs == [E.storageID: 2, E.raftID: 2])
        let encryption = directory + "/" + SidecarFile.directoryName
        #expect(try fileSystem.listDirectory(at: encryption) == [SidecarFile.fileName])
        try fileSystem.removeFile(at: encryption + "/" + SidecarFile.fileName)
        _ = rmdir(encryption)
        _ = rmdir(directory)
    }

    @Test("every refusal is one line naming the normative error, the flag or file, and a remedy")
    func descriptions() {
        let path = "/data/n1/encryption/keys.json"
        let cases: [(StartupError, String, String)] = [
            (.kekRequired, "ErrKEKRequired", "--encryption-enabled"),
            (.kekMismatch(keyID: 3, sidecarPath: path), "ErrKEKMismatch", path),
            (.sidecarPresentWithoutFlag(sidecarPath: path), "ErrSidecarPresentWithoutFlag", "--encryption-enabled"),
            (.localEpochExhausted(keyID: 3, purpose: .raft, sidecarPath: path), "ErrLocalEpochExhausted", "rotate-dek"),
            (
                .unsupportedFilesystem(
                    directory: "/data/n1/encryption",
                    failure: FileSystemError(.io(errno: 22), operation: "fsync directory", path: "/d")),
                "ErrUnsupportedFilesystem", "--data-dir"
            ),
            (
                .nodeIDCollision(.nodeIDCollision(dekID: 1, node16: 2, registeredFullNodeID: 3, claimingFullNodeID: 4)),
                "ErrNodeIDCollision", "--node-id"
            ),
        ]
        for (error, name, mention) in cases {
            #expect(error.description.hasPrefix(name + ":"), "\(error)")
            #expect(error.description.contains(mention), "\(error)")
            #expect(!error.description.contains("\n"))
        }
        let warning = LocalEpochWarning(keyID: 3, purpose: .storage, localEpoch: 0xFF01)
        #expect(
            warning.description.contains("rotate-dek --purpose storage")
                && warning.description.contains("ErrLocalEpochExhausted"))
    }
}
