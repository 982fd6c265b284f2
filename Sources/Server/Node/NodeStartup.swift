import ControlPlane
import DurableIO
import Encryption
import Foundation
import KV
import Logging
import Raft
import RedisCommands
import Storage

/// Opens a node's data directory and builds its ``ReplicatedNode``, refusing to start in any unsafe state.
public enum NodeStartup {
    /// Opens or creates everything under `configuration.dataDirectory`.
    ///
    /// - Throws: ``StartupFailure`` with one line naming the flag or file and the remedy.
    public static func open(_ configuration: NodeConfiguration, options: ReplicatedNode.Options = .init(),
                            metrics: MetricsRegistry? = nil, logger: Logger) throws(StartupFailure)
        -> ReplicatedNode
    {
        do throws(ConfigurationError) { try configuration.validate() } catch { throw .configuration(error) }
        let fileSystem = PosixFileSystem()
        let identity = configuration.identity
        do throws(FileSystemError) { try fileSystem.createDirectory(at: configuration.dataDirectory) } catch {
            throw .dataDirectory(error.description)
        }
        // Before anything under the directory is read or written: a second process must touch nothing.
        let lock: DataDirectoryLock
        do throws(DataDirectoryLockError) { lock = try DataDirectoryLock(directory: configuration.dataDirectory) } catch {
            if case .locked = error { throw .dataDirectoryLocked(error.description) }
            throw .dataDirectory(error.description)
        }
        let log = try openLog(configuration, fileSystem: fileSystem)
        let store: MVCCStore
        do throws(StorageError) {
            store = try MVCCStore(path: joinPath(configuration.dataDirectory, "kv.db"),
                                  limits: configuration.sizeLimits.storeLimits)
        } catch { throw .store(error.description) }
        do { try KVStateMachine.adoptKeyspaceFormat(store) } catch { throw .store("\(error)") }
        try checkSidecarNotBehindStore(configuration, fileSystem: fileSystem, store: store)
        let encryption = try openEncryption(configuration, fileSystem: fileSystem, identity: identity, store: store,
                                            metrics: metrics, logger: logger)
        try restoreStoreIfBehindSnapshot(store, log: log)
        if let encryption, let snapshotIndex = try? log.snapshot().metadata.index, snapshotIndex > 0 {
            do throws(ApplyHalt) { try encryption.adoptSnapshotState(at: snapshotIndex) } catch {
                throw .encryption(error.description)
            }
        }
        let machine = KVStateMachine(store: store, encryptionApplier: encryption)
        machine.transactionApplier = RedisTransactionApplier(
            maxValueBytes: configuration.maxValueBytes, aclDefaults: ACLDefaults(password: configuration.redisPassword))
        machine.maxValueBytes = configuration.maxValueBytes
        let storeApplied: UInt64
        do throws(StorageError) { storeApplied = try store.appliedIndex() } catch { throw .store(error.description) }
        // The store may be ahead of the persisted commit index (written lazily); entries it already holds are
        // handed out again and skipped by the state machine.
        let snapshotIndex = (try? log.snapshot().metadata.index) ?? 0
        let applied = min(storeApplied, max(log.hardState.commit, snapshotIndex))
        let core: RaftNode
        do throws(RaftStorageError) {
            core = try RaftNode(configuration: configuration.sizeLimits.raftConfiguration(id: identity.fullNodeID),
                                storage: log,
                                random: SystemRandomNumberGenerator(), appliedIndex: applied)
        } catch {
            throw .raftLog(error.description)
        }
        return ReplicatedNode(name: configuration.nodeName, id: identity.fullNodeID, options: options, core: core,
                              log: log, store: store, machine: machine, initialPeers: configuration.initialCluster,
                              dataDirectoryLock: lock, metrics: metrics, logger: logger)
    }

    static func openLog(_ configuration: NodeConfiguration, fileSystem: any FileSystem) throws(StartupFailure)
        -> DurableLog
    {
        do throws(RaftLogError) {
            let log = try DurableLog.open(directory: joinPath(configuration.dataDirectory, "raft"),
                                          fileSystem: fileSystem,
                                          configuration: configuration.sizeLimits.logConfiguration)
            let isFresh = log.lastIndex == 0 && log.hardState == HardState()
                && ((try? log.snapshot().metadata.configuration.members.isEmpty) ?? true)
            if isFresh && !configuration.join {
                let voters = Set(configuration.initialCluster.map(\.id))
                try log.bootstrap(configuration: ConfigurationState(voters: voters))
            }
            return log
        } catch {
            throw .raftLog(error.description)
        }
    }

    static func openEncryption(_ configuration: NodeConfiguration, fileSystem: any FileSystem,
                               identity: NodeIdentity, store: MVCCStore, metrics: MetricsRegistry?,
                               logger: Logger) throws(StartupFailure) -> KVEncryption?
    {
        let provider: KEKRing?
        do { provider = try NodeKEKs.ring(configuration, fileSystem: fileSystem, metrics: metrics) } catch {
            throw .encryption("\(error)")
        }
        do {
            guard let state = try EncryptionStartup.start(
                encryptionEnabled: configuration.encryptionEnabled, kekProvider: provider,
                dataDirectory: configuration.dataDirectory, fileSystem: fileSystem, identity: identity,
                registry: StoreWriterRegistry(store: store),
                warn: { warning in logger.warning("\(warning)") })
            else { return nil }
            return try KVEncryption(state: state, store: store, compression: configuration.compression)
        } catch {
            throw .encryption("\(error)")
        }
    }

    /// Refuses to start when the store applied an encryption entry that the sidecar does not reflect.
    ///
    /// Apply writes the sidecar before the store transaction commits, so a sidecar behind the store was lost
    /// or restored from an older copy: its local epochs can no longer be trusted to be fresh.
    static func checkSidecarNotBehindStore(_ configuration: NodeConfiguration, fileSystem: any FileSystem,
                                           store: MVCCStore) throws(StartupFailure)
    {
        let stored: Sidecar?
        do { stored = try KVEncryption.replicatedState(in: store) } catch { throw .store("\(error)") }
        guard let stored else { return }
        let file = SidecarFile(dataDirectory: configuration.dataDirectory, fileSystem: fileSystem)
        let sidecarIndex = (try? file.read())??.raftAppliedIndex
        guard let sidecarIndex, sidecarIndex >= stored.raftAppliedIndex else {
            throw .encryption(StartupError.sidecarBehindRaftLog(
                sidecarPath: file.path, sidecarIndex: sidecarIndex, storeIndex: stored.raftAppliedIndex).description)
        }
    }

    /// A store that lost its newest transactions while the log was compacted past them starts from the
    /// log's snapshot.
    static func restoreStoreIfBehindSnapshot(_ store: MVCCStore, log: DurableLog) throws(StartupFailure) {
        do throws(StorageError) {
            guard let snapshot = try? log.snapshot(), snapshot.metadata.index > 0,
                  try store.appliedIndex() < snapshot.metadata.index
            else { return }
            try store.importSnapshot(bytes: snapshot.data)
        } catch { throw .store(error.description) }
    }
}

/// Why a node refused to start; the description is the one line printed before exiting non-zero.
public enum StartupFailure: Error, Hashable, Sendable, CustomStringConvertible {
    case configuration(ConfigurationError)
    case dataDirectory(String)
    /// `ErrDataDirLocked`: another live process holds `<data-dir>/LOCK`.
    case dataDirectoryLocked(String)
    case raftLog(String)
    case store(String)
    case encryption(String)
    /// A TLS certificate, key or CA file that cannot be used.
    case tls(String)

    public var description: String {
        switch self {
        case .configuration(let error): return error.description
        case .dataDirectory(let reason): return "--data-dir cannot be used: \(reason)"
        case .dataDirectoryLocked(let reason): return reason
        case .raftLog(let reason): return "the Raft log under --data-dir cannot be opened: \(reason)"
        case .store(let reason): return "the key-value store under --data-dir cannot be opened: \(reason)"
        case .encryption(let reason), .tls(let reason): return reason
        }
    }
}

extension StartupFailure {
    /// The process exit status for this refusal (DESIGN §6): 75 when waiting may help (the data directory is
    /// locked by a live process, no KEK provider answers), 74 for I/O errors on the data directory, and 78 for
    /// every other configuration or start-up refusal.
    public var exitStatus: ExitStatus {
        switch self {
        case .dataDirectoryLocked: return .temporaryFailure
        case .dataDirectory, .raftLog, .store: return .ioError
        case .encryption(let reason) where reason.contains("ErrKEKUnavailable"): return .temporaryFailure
        case .configuration, .encryption, .tls: return .configuration
        }
    }
}
