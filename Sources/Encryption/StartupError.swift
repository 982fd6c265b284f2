import DurableIO

/// Why a node refuses to start (DESIGN §5).
///
/// Each description is one line that names the normative error, the flag or file concerned, and the remedy; the
/// node logs it and exits non-zero. No description contains key material or wrapped bytes.
public enum StartupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `--encryption-enabled` is set but no KEK provider is configured.
    case kekRequired
    /// A DEK of the sidecar does not unwrap with the configured KEK.
    case kekMismatch(keyID: KeyID, sidecarPath: String)
    /// No configured KEK provider answered while unwrapping a DEK of the sidecar; `reason` is the providers'
    /// errors (no secrets). Waiting may help, so the node exits 75.
    case kekUnavailable(keyID: KeyID, sidecarPath: String, reason: String)
    /// A sidecar exists but `--encryption-enabled` is not set.
    case sidecarPresentWithoutFlag(sidecarPath: String)
    /// Bumping this DEK's local epoch would pass 0xFFFF.
    case localEpochExhausted(keyID: KeyID, purpose: KeyPurpose, sidecarPath: String)
    /// The durability probe failed in the sidecar's directory.
    case unsupportedFilesystem(directory: String, failure: FileSystemError)
    /// The registry says another node owns this node's `node16` under a DEK.
    case nodeIDCollision(WriterRegistryError)
    /// The sidecar cannot be read, parsed or written.
    case sidecarUnusable(SidecarError)
    /// The writer registry could not be read.
    case registryUnreadable(WriterRegistryStoreError)
    /// The store applied an encryption entry that the sidecar does not reflect (lost or restored sidecar).
    case sidecarBehindRaftLog(sidecarPath: String, sidecarIndex: UInt64?, storeIndex: UInt64)

    public var description: String {
        switch self {
        case .kekRequired:
            return "ErrKEKRequired: --encryption-enabled is set but no KEK is configured; pass --kek-file (or set "
                + "ELASTICKV_KEK_BASE64 in tests) with the cluster's KEK"
        case .kekUnavailable(let keyID, let path, let reason):
            return "ErrKEKUnavailable: DEK \(keyID) in \(path) cannot be unwrapped now because no configured KEK "
                + "provider answers (\(reason)); the node exits 75 so a supervisor retries; bring the provider back "
                + "or configure a second KEK with --kek"
        case .kekMismatch(let keyID, let path):
            return "ErrKEKMismatch: DEK \(keyID) in \(path) does not unwrap with the KEK from --kek-file; configure "
                + "the KEK the cluster's keys were last wrapped with"
        case .sidecarPresentWithoutFlag(let path):
            return "ErrSidecarPresentWithoutFlag: \(path) exists but --encryption-enabled is not set; restart with "
                + "--encryption-enabled and --kek-file (encryption cannot be turned off in place)"
        case .localEpochExhausted(let keyID, let purpose, let path):
            return "ErrLocalEpochExhausted: local_epoch of DEK \(keyID) in \(path) is 65535 and cannot be bumped; "
                + "run elastickv-admin encryption rotate-dek --purpose \(purpose.rawValue) against the cluster, "
                + "retire-dek --key-id \(keyID), then restart"
        case .unsupportedFilesystem(let directory, let failure):
            return "ErrUnsupportedFilesystem: the fsync/rename/directory-fsync probe failed in \(directory) "
                + "(\(failure)); put --data-dir on a local file system that supports them"
        case .nodeIDCollision(let error):
            return "\(error)"
        case .sidecarUnusable(let error):
            return "\(error)"
        case .registryUnreadable(let error):
            return "\(error); check the data dir's store and restart"
        case .sidecarBehindRaftLog(let path, let sidecarIndex, let storeIndex):
            return "ErrSidecarBehindRaftLog: \(path) reflects encryption entries through index "
                + "\(sidecarIndex.map(String.init) ?? "none (missing)") but the store applied one at \(storeIndex); "
                + "with the node stopped run elastickv-admin encryption resync-sidecar --data-dir <dir> --node-id "
                + "<id> --kek-file <file>, then restart with --encryption-enabled"
        }
    }
}
