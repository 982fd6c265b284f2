import DurableIO

/// A sidecar that cannot be read, parsed or written.
///
/// Carries the file's path and what is wrong with it; never wrapped bytes or any other content of the file.
public struct SidecarError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// The file is not JSON of the expected shape; the associated value is the JSON path of the problem.
        case malformedJSON(at: String)
        /// `version` is not ``Sidecar/formatVersion``.
        case unsupportedVersion(Int)
        /// A key id in `keys` is not a canonical non-zero decimal uint32.
        case invalidKeyID
        /// A purpose is neither `storage` nor `raft`.
        case unknownPurpose
        /// The `wrapped` value of this key is not canonical, non-empty base64.
        case invalidWrappedEncoding(KeyID)
        /// The `local_epoch` of this key is above 0xFFFF.
        case localEpochOutOfRange(KeyID, UInt64)
        /// An `active` id is 0 or above the uint32 range.
        case invalidActiveKeyID(KeyPurpose)
        /// The active id of a purpose names no key in `keys`.
        case activeKeyMissing(KeyPurpose, KeyID)
        /// The active id of a purpose names a key of the other purpose.
        case activeKeyPurposeMismatch(KeyPurpose, KeyID)
        /// `raft_envelope_cutover_index` is 0 or after `raft_applied_index`.
        case invalidCutoverIndex
        /// `bootstrap_sha256` is not 64 hex digits.
        case invalidBootstrapDigest
        /// `rotation_policy` holds a bound above its maximum.
        case invalidRotationPolicy
        /// The file (or the content to write) is larger than ``Sidecar/maxFileBytes``; the value is its size.
        case tooLarge(Int)
        /// Reading the file failed.
        case readFailed(FileSystemError)
        /// A step of the crash-durable write failed; the previous content is still in place.
        case writeFailed(FileSystemError)
    }

    /// What is wrong.
    public let kind: Kind
    /// The sidecar file concerned.
    public let path: String

    public init(_ kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String {
        let restore = "restore it from a healthy node's resync-sidecar or a backup"
        switch kind {
        case .malformedJSON(let at): return "sidecar \(path) is not valid: malformed JSON at \(at); \(restore)"
        case .unsupportedVersion(let version):
            return "sidecar \(path) has version \(version), this build reads \(Sidecar.formatVersion); run a build "
                + "that knows it"
        case .invalidKeyID: return "sidecar \(path) has a key id that is not a non-zero decimal uint32; \(restore)"
        case .unknownPurpose: return "sidecar \(path) names a purpose other than storage or raft; \(restore)"
        case .invalidWrappedEncoding(let id):
            return "sidecar \(path): wrapped DEK \(id) is not canonical base64; \(restore)"
        case .localEpochOutOfRange(let id, let epoch):
            return "sidecar \(path): local_epoch \(epoch) of DEK \(id) is above 65535; \(restore)"
        case .invalidActiveKeyID(let purpose):
            return "sidecar \(path): active \(purpose.rawValue) key id is 0 or not a uint32; \(restore)"
        case .activeKeyMissing(let purpose, let id):
            return "sidecar \(path): active \(purpose.rawValue) key \(id) is not in keys; \(restore)"
        case .activeKeyPurposeMismatch(let purpose, let id):
            return "sidecar \(path): active \(purpose.rawValue) key \(id) is not a \(purpose.rawValue) key; \(restore)"
        case .invalidCutoverIndex:
            return "sidecar \(path): raft_envelope_cutover_index is 0 or after raft_applied_index; \(restore)"
        case .invalidBootstrapDigest:
            return "sidecar \(path): bootstrap_sha256 is not 64 hex digits; \(restore)"
        case .invalidRotationPolicy:
            return "sidecar \(path): rotation_policy holds a bound above its maximum; \(restore)"
        case .tooLarge(let size):
            return "sidecar \(path) is \(size) bytes, above the \(Sidecar.maxFileBytes)-byte limit; retire unused DEKs "
                + "(elastickv-admin encryption retire-dek) or restore the file"
        case .readFailed(let failure): return "cannot read sidecar \(path): \(failure); check the disk and permissions"
        case .writeFailed(let failure):
            return "cannot write sidecar \(path) durably: \(failure); the previous content is kept; free space or "
                + "fix the disk, then restart"
        }
    }
}
