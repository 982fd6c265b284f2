/// A failed file-system operation.
///
/// Carries the operation and the path so an operator can act on it; never file contents.
public struct FileSystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// The file or directory does not exist.
        case notFound
        /// The process may not access the file.
        case permissionDenied
        /// The device is full.
        case noSpace
        /// Any other I/O error, with its `errno`.
        case io(errno: Int32)
        /// A test double refused the operation on purpose.
        case injectedFault
        /// A test double simulated a crash; nothing more reaches the disk until it restarts.
        case crashed
        /// The handle was already closed.
        case closed
    }

    public var kind: Kind
    /// The operation that failed, e.g. `"rename"`.
    public var operation: String
    /// The path the operation was about.
    public var path: String

    public init(_ kind: Kind, operation: String, path: String) {
        self.kind = kind
        self.operation = operation
        self.path = path
    }

    public var description: String {
        let reason: String
        switch kind {
        case .notFound: reason = "no such file or directory"
        case .permissionDenied: reason = "permission denied"
        case .noSpace: reason = "no space left on device"
        case .io(let errno): reason = "I/O error (errno \(errno))"
        case .injectedFault: reason = "injected fault"
        case .crashed: reason = "simulated crash"
        case .closed: reason = "file already closed"
        }
        return "\(operation) \(path): \(reason)"
    }
}
