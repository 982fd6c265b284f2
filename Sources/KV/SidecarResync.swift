import DurableIO
import Encryption
import Storage

/// Rebuilds a stopped node's sidecar from the encryption state its store applied (`resync-sidecar`).
///
/// Every encryption entry a node applies also records the replicated state (keys, flags, cut-over) in the
/// store, in the transaction that advances the applied index; installed snapshots carry that row too. When
/// the sidecar is lost or restored from an older copy (`ErrSidecarBehindRaftLog`), this writes the store's
/// state back to the sidecar. Local epochs never move backwards: each key keeps the higher of the old
/// sidecar's epoch and the epoch the registry last committed for this node, and the next start bumps it past
/// both. Entries after the store's applied index replay from the log at start; a node whose log was compacted
/// past them receives a snapshot from the leader, which carries the leader's full state.
public enum SidecarResync {
    /// Why the resync was refused; the description is the one line the CLI prints.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Rewrites `<dataDirectory>/encryption/keys.json`; the node must be stopped.
    ///
    /// - Returns: the sidecar written, or the one already there when it is not behind the store.
    /// - Throws: ``Failure`` when the store holds no encryption state, a key does not unwrap with the KEK
    ///   (`ErrKEKMismatch`), or a file cannot be read or written.
    public static func run(dataDirectory: String, nodeName: String, kekProvider: any KEKProvider,
                           fileSystem: any FileSystem = PosixFileSystem()) throws(Failure) -> Sidecar
    {
        let store: MVCCStore
        do throws(StorageError) { store = try MVCCStore(path: joinPath(dataDirectory, "kv.db")) } catch {
            throw Failure(description: "the store under \(dataDirectory) cannot be opened: \(error)")
        }
        defer { store.close() }
        let stored: Sidecar?
        do { stored = try KVEncryption.replicatedState(in: store) } catch {
            throw Failure(description: "the store's encryption state cannot be read: \(error)")
        }
        guard let stored else {
            throw Failure(description: "the store under \(dataDirectory) holds no encryption state; there is "
                + "nothing to resync (start the node and let it catch up)")
        }
        let file = SidecarFile(dataDirectory: dataDirectory, fileSystem: fileSystem)
        let old = (try? file.read()) ?? nil
        if let old, old.raftAppliedIndex >= stored.raftAppliedIndex { return old }
        let identity = NodeIdentity(name: nodeName)
        var next = stored
        for id in stored.keys.keys.sorted() {
            do { _ = try kekProvider.unwrap(stored.keys[id]!.wrapped) } catch {
                throw Failure(description: "ErrKEKMismatch: DEK \(id) does not unwrap with the given KEK; pass "
                    + "the KEK the cluster's keys are wrapped with")
            }
            let registered = (try? store.registryRow(dekID: id, node16: identity.node16))
                .flatMap { $0 }.map { $0.fullNodeID == identity.fullNodeID ? $0.lastSeenLocalEpoch : 0 } ?? 0
            next.keys[id]!.localEpoch = max(old?.keys[id]?.localEpoch ?? 0, registered)
        }
        do throws(FileSystemError) { try file.probeDurability() } catch {
            throw Failure(description: StartupError.unsupportedFilesystem(directory: file.directory, failure: error)
                .description)
        }
        do throws(SidecarError) {
            try file.removeLeftoverTemporaryFile()
            try file.write(next)
        } catch {
            throw Failure(description: "\(error)")
        }
        return next
    }
}
