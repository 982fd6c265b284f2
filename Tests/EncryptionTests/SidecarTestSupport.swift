import DurableIO
import Encryption
import Synchronization
import TestSupport

/// A KEK provider test double: XOR with a per-generation pad, prefixed by the generation and followed by an
/// 8-byte check, so unwrapping bytes of another generation (or altered bytes) fails as a real KEK would.
///
/// A provider can accept several generations, as a KMS does during KEK rotation; it always wraps with
/// `current`.
struct SidecarTestKEK: KEKProvider {
    struct Mismatch: Error, CustomStringConvertible {
        var description: String { "ErrKEKMismatch: the test KEK cannot unwrap these bytes" }
    }

    static let wrappedByteCount = 1 + DataEncryptionKey.byteCount + 8

    let current: UInt8
    let accepted: Set<UInt8>

    init(generation: UInt8, alsoAccepts: [UInt8] = []) {
        current = generation
        accepted = Set(alsoAccepts + [generation])
    }

    func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        let plain = key.secret.withUnsafeBytes { Array($0) }
        let pad = Self.pad(current)
        return [current] + zip(plain, pad).map { $0 ^ $1 } + Self.check(current, plain)
    }

    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        guard wrapped.count == Self.wrappedByteCount, accepted.contains(wrapped[0]) else { throw Mismatch() }
        let generation = wrapped[0]
        let plain = zip(wrapped[1...DataEncryptionKey.byteCount], Self.pad(generation)).map { $0 ^ $1 }
        guard Array(wrapped[(1 + DataEncryptionKey.byteCount)...]) == Self.check(generation, plain) else {
            throw Mismatch()
        }
        return try DataEncryptionKey(bytes: plain)
    }

    private static func pad(_ generation: UInt8) -> [UInt8] {
        (0..<DataEncryptionKey.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ Int(generation) &* 101 &+ 11) }
    }

    private static func check(_ generation: UInt8, _ plain: [UInt8]) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in [generation] + pad(generation) + plain {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * UInt64($0))) }
    }
}

/// Fixed key bytes for tests: 32 bytes derived from `seed`.
func sidecarTestDEK(_ seed: UInt8) -> DataEncryptionKey {
    try! DataEncryptionKey(bytes: (0..<32).map { seed &+ UInt8($0) &* 7 })
}

/// Three node identities; their full ids differ in their low 16 bits.
let sidecarTestMembers = [NodeIdentity(name: "n1"), NodeIdentity(name: "n2"), NodeIdentity(name: "n3")]

/// Two full node ids that share node16 5.
let collidingFullNodeIDs: (UInt64, UInt64) = (0x0001_0000_0000_0005, 0x0002_0000_0000_0005)

/// A registry store double that fails its n-th write (0-based) once, then works again.
final class SidecarFailingRegistryStore: WriterRegistryStore {
    let inner = InMemoryWriterRegistryStore()
    var failWriteNumber: Int?
    private(set) var writes = 0

    func row(for key: WriterRegistryKey) throws(WriterRegistryStoreError) -> WriterRegistryRow? {
        try inner.row(for: key)
    }

    func setRow(_ row: WriterRegistryRow, for key: WriterRegistryKey) throws(WriterRegistryStoreError) {
        try countWrite()
        try inner.setRow(row, for: key)
    }

    func removeRows(dekID: KeyID) throws(WriterRegistryStoreError) {
        try countWrite()
        try inner.removeRows(dekID: dekID)
    }

    private func countWrite() throws(WriterRegistryStoreError) {
        defer { writes += 1 }
        if writes == failWriteNumber {
            failWriteNumber = nil
            throw WriterRegistryStoreError(operation: "write row", reason: "injected")
        }
    }
}

/// Builders of entry payloads for tests.
enum SidecarTestEntries {
    static let storageID: KeyID = 305_419_896
    static let raftID: KeyID = 2_596_069_104
    static let created: UInt64 = 1_777_456_800

    static func registrations(for keyIDs: [KeyID], epoch: UInt16 = 0) -> [WriterRegistration] {
        keyIDs.flatMap { id in
            sidecarTestMembers.map { WriterRegistration(dekID: id, fullNodeID: $0.fullNodeID, localEpoch: epoch) }
        }
    }

    static func bootstrap(
        kek: SidecarTestKEK, storageID: KeyID = storageID, raftID: KeyID = raftID, seed: UInt8 = 1,
        registrations: [WriterRegistration]? = nil
    ) -> EncryptionEntry {
        .bootstrap(
            EncryptionEntry.Bootstrap(
                createdUnixSeconds: created,
                storageKey: .init(
                    keyID: storageID, purpose: .storage, wrapped: WrappedDEK(try! kek.wrap(sidecarTestDEK(seed)))),
                raftKey: .init(
                    keyID: raftID, purpose: .raft, wrapped: WrappedDEK(try! kek.wrap(sidecarTestDEK(seed &+ 1)))),
                registrations: registrations ?? Self.registrations(for: [storageID, raftID])))
    }

    /// A create-index-key entry for key `id`, whose bytes are `sidecarTestDEK(seed)`.
    static func indexKey(kek: SidecarTestKEK, id: KeyID, seed: UInt8) -> EncryptionEntry {
        .createIndexKey(.init(createdUnixSeconds: created + 60,
                              key: .init(keyID: id, purpose: .index, wrapped: WrappedDEK(try! kek.wrap(sidecarTestDEK(seed))))))
    }

    static func rotate(
        kek: SidecarTestKEK, id: KeyID, purpose: KeyPurpose, seed: UInt8, replacing: KeyID? = nil
    ) -> EncryptionEntry {
        .rotateDEK(
            EncryptionEntry.RotateDEK(
                createdUnixSeconds: created + 3600,
                replacedKeyID: replacing ?? (purpose == .storage ? storageID : raftID),
                key: .init(keyID: id, purpose: purpose, wrapped: WrappedDEK(try! kek.wrap(sidecarTestDEK(seed)))),
                registrations: registrations(for: [id])))
    }
}

extension EncryptionEntry {
    /// The encoding, for tests that build valid entries.
    var payload: [UInt8] { try! encoded() }
}

/// Records the cut-over indexes an applier installs.
final class SidecarInstallerLog: Sendable {
    private let calls = Mutex<[UInt64]>([])
    var indexes: [UInt64] { calls.withLock { $0 } }
    func record(_ index: UInt64) { calls.withLock { $0.append(index) } }
}

/// A node's data dir on a simulated disk, with what a restart keeps: the disk and the FSM's registry.
final class SidecarTestNode {
    let fileSystem: SimulatedFileSystem
    let dataDirectory = "/data/n1"
    let identity = sidecarTestMembers[0]
    var kek: SidecarTestKEK
    let registry: any WriterRegistryStore
    let installs = SidecarInstallerLog()

    init(
        kek: SidecarTestKEK = SidecarTestKEK(generation: 1),
        registry: any WriterRegistryStore = InMemoryWriterRegistryStore(), seed: UInt64 = 7
    ) {
        fileSystem = SimulatedFileSystem(seed: seed)
        self.kek = kek
        self.registry = registry
        try! fileSystem.createDirectory(at: dataDirectory)
    }

    var sidecarFile: SidecarFile { SidecarFile(dataDirectory: dataDirectory, fileSystem: fileSystem) }

    /// Runs the start-up checks with encryption enabled.
    func start() throws(StartupError) -> EncryptionState {
        try EncryptionStartup.start(
            encryptionEnabled: true, kekProvider: kek, dataDirectory: dataDirectory, fileSystem: fileSystem,
            identity: identity, registry: registry)!
    }

    /// Starts and returns an applier over the started state.
    func startApplier() throws(StartupError) -> (EncryptionState, EncryptionApplier) {
        let state = try start()
        let installs = self.installs
        return (state, state.makeApplier(registry: registry, installRaftEnvelope: { installs.record($0) }))
    }
}

/// Everything an applier affects, with local epochs set to 0 so runs with different restarts compare equal.
struct SidecarObservedState: Equatable, CustomStringConvertible {
    var sidecar: Sidecar?
    var keyIDs: [KeyID]
    var active: [KeyPurpose: KeyID]
    var rows: [WriterRegistryKey: WriterRegistryRow]

    init(node: SidecarTestNode, keystore: Keystore, registryRows: [WriterRegistryKey: WriterRegistryRow]) {
        var sidecar = try! node.sidecarFile.read()
        if var normalized = sidecar {
            for id in normalized.keys.keys { normalized.keys[id]!.localEpoch = 0 }
            sidecar = normalized
        }
        self.sidecar = sidecar
        keyIDs = keystore.keyIDs
        active = [:]
        for purpose in KeyPurpose.allCases { active[purpose] = keystore.activeKeyID(for: purpose) }
        rows = registryRows
    }

    var description: String {
        "\(sidecar.map { "\($0)" } ?? "no sidecar") keys \(keyIDs) active \(active) rows \(rows)"
    }
}
