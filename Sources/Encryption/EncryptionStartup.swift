import DurableIO

/// The start-up guards of DESIGN §5 and the local-epoch bump of §3.2.
public enum EncryptionStartup {
    /// Checks that the node may start, loads its keys and bumps every DEK's local epoch durably.
    ///
    /// In order: a sidecar without `--encryption-enabled` is refused; with it, a KEK is required, the data dir
    /// must pass the durability probe, a leftover `keys.json.tmp` is removed, every DEK must unwrap, and no
    /// epoch may pass 0xFFFF. Each DEK's epoch becomes `max(sidecar epoch, registry's last epoch for this node)
    /// + 1` and the sidecar is written crash-durably before this returns, so after any crash the disk holds an
    /// epoch at least as high as any this function ever returned.
    /// - Parameters:
    ///   - encryptionEnabled: `--encryption-enabled`.
    ///   - kekProvider: the configured KEK provider, if any.
    ///   - dataDirectory: `--data-dir`.
    ///   - fileSystem: the file system holding the data dir.
    ///   - identity: this node's identity (`--node-id`).
    ///   - registry: the FSM's writer registry as last persisted, if the node has one yet.
    ///   - warn: receives one warning per DEK whose new epoch is 0xFF00 or more.
    /// - Returns: `nil` when encryption is off; otherwise the state to seal and apply with.
    /// - Throws: ``StartupError``.
    public static func start(
        encryptionEnabled: Bool, kekProvider: (any KEKProvider)?, dataDirectory: String,
        fileSystem: any FileSystem, identity: NodeIdentity, registry: (any WriterRegistryStore)? = nil,
        warn: (LocalEpochWarning) -> Void = { _ in }
    ) throws(StartupError) -> EncryptionState? {
        let file = SidecarFile(dataDirectory: dataDirectory, fileSystem: fileSystem)
        guard encryptionEnabled else {
            if file.exists { throw .sidecarPresentWithoutFlag(sidecarPath: file.path) }
            return nil
        }
        guard let kekProvider else { throw .kekRequired }
        do { try file.probeDurability() } catch {
            throw .unsupportedFilesystem(directory: file.directory, failure: error)
        }
        let loaded: Sidecar?
        do {
            try file.removeLeftoverTemporaryFile()
            loaded = try file.read()
        } catch {
            throw .sidecarUnusable(error)
        }
        let keystore = Keystore()
        guard var sidecar = loaded else {
            return EncryptionState(
                identity: identity, kekProvider: kekProvider, keystore: keystore, sidecarFile: file,
                sidecar: nil, sealingLocalEpochs: [:])
        }
        try installKeys(of: sidecar, into: keystore, using: kekProvider, path: file.path)
        let epochs = try nextLocalEpochs(of: sidecar, identity: identity, registry: registry, path: file.path)
        for (id, epoch) in epochs.sorted(by: { $0.key < $1.key }) {
            sidecar.keys[id]!.localEpoch = epoch
            if epoch >= LocalEpochWarning.threshold {
                warn(LocalEpochWarning(keyID: id, purpose: sidecar.keys[id]!.purpose, localEpoch: epoch))
            }
        }
        do { try file.write(sidecar) } catch { throw .sidecarUnusable(error) }
        return EncryptionState(
            identity: identity, kekProvider: kekProvider, keystore: keystore, sidecarFile: file,
            sidecar: sidecar, sealingLocalEpochs: epochs)
    }

    /// Unwraps every DEK of the sidecar into the keystore and activates the active ones.
    private static func installKeys(
        of sidecar: Sidecar, into keystore: Keystore, using kekProvider: any KEKProvider, path: String
    ) throws(StartupError) {
        for id in sidecar.keys.keys.sorted() {
            let record = sidecar.keys[id]!
            let key: DataEncryptionKey
            do { key = try kekProvider.unwrap(record.wrapped) } catch {
                guard KEKRing.isTransient(error) else { throw .kekMismatch(keyID: id, sidecarPath: path) }
                throw .kekUnavailable(keyID: id, sidecarPath: path, reason: "\(error)")
            }
            do { try keystore.install(key, id: id, purpose: record.purpose) } catch {
                preconditionFailure("a fresh keystore accepts every non-zero id of a validated sidecar once")
            }
        }
        for (purpose, id) in sidecar.activeKeyIDs {
            do { try keystore.activate(id: id, for: purpose) } catch {
                preconditionFailure("a validated sidecar's active ids name installed keys of their purpose")
            }
        }
    }

    /// The epoch each sealing DEK moves to: one past the highest this node ever used or registered under it
    /// (the index key seals nothing, so it takes no epoch and no registration).
    private static func nextLocalEpochs(
        of sidecar: Sidecar, identity: NodeIdentity, registry: (any WriterRegistryStore)?, path: String
    ) throws(StartupError) -> [KeyID: UInt16] {
        var epochs: [KeyID: UInt16] = [:]
        for id in sidecar.keys.keys.sorted() where sidecar.keys[id]!.purpose.seals {
            let record = sidecar.keys[id]!
            var highest = record.localEpoch
            if let registry {
                let row: WriterRegistryRow?
                do { row = try registry.row(for: WriterRegistryKey(dekID: id, node16: identity.node16)) } catch {
                    throw .registryUnreadable(error)
                }
                if let row {
                    guard row.fullNodeID == identity.fullNodeID else {
                        throw .nodeIDCollision(
                            .nodeIDCollision(
                                dekID: id, node16: identity.node16, registeredFullNodeID: row.fullNodeID,
                                claimingFullNodeID: identity.fullNodeID))
                    }
                    highest = max(highest, row.lastSeenLocalEpoch)
                }
            }
            guard highest < UInt16.max else {
                throw .localEpochExhausted(keyID: id, purpose: record.purpose, sidecarPath: path)
            }
            epochs[id] = highest + 1
        }
        return epochs
    }
}
