import DurableIO

/// Why a snapshot file could not be used: the disk failed, or the bytes are not a valid snapshot.
///
/// Recovery removes invalid snapshot files but stops on I/O errors, so the two are kept apart.
enum SnapshotReadError: Error, Hashable, Sendable, CustomStringConvertible {
    case io(FileSystemError)
    case unsupportedVersion(file: String, version: UInt16)
    case invalid(file: String, reason: String)

    var description: String {
        switch self {
        case .io(let error): return "reading snapshot failed: \(error)"
        case .unsupportedVersion(let file, let version): return "snapshot \(file) has format version \(version)"
        case .invalid(let file, let reason): return "snapshot \(file) is invalid: \(reason)"
        }
    }
}
