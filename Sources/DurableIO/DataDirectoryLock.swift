#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on `<data-dir>/LOCK`, held for the life of the process that opened the directory.
///
/// A second process (or a second open in the same process) that asks for the lock is refused at once with
/// ``DataDirectoryLockError/locked(path:holderPID:)`` and changes nothing: the file's contents (the holder's
/// pid, for the refusal message) are only rewritten once the lock is held. The kernel drops the lock when the
/// holder exits, however it exits, so a crashed process never leaves the directory locked.
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = "LOCK"
    /// The most bytes read from a lock file for the holder's pid.
    static let maxPIDBytes = 32

    public let path: String
    private let descriptor: Int32

    /// Takes the lock on `directory` (which must exist).
    ///
    /// - Throws: ``DataDirectoryLockError/locked(path:holderPID:)`` when another open file description holds
    ///   it; ``DataDirectoryLockError/io(_:)`` when the file cannot be opened, locked or written.
    public init(directory: String) throws(DataDirectoryLockError) {
        let path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(Self.error("open", path)) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            _ = close(fd)
            if code == EWOULDBLOCK { throw .locked(path: path, holderPID: holder) }
            throw .io(FileSystemError(.io(errno: code), operation: "flock", path: path))
        }
        var text = Array("\(getpid())\n".utf8)
        let written = ftruncate(fd, 0) == 0 ? pwrite(fd, &text, text.count, 0) : -1
        guard written == text.count else {
            let failure = Self.error("write", path)
            _ = close(fd)
            throw .io(failure)
        }
        self.path = path
        descriptor = fd
    }

    deinit {
        _ = close(descriptor)
    }

    static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: maxPIDBytes)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace()
        return Int32(text)
    }

    static func error(_ operation: String, _ path: String) -> FileSystemError {
        let code = errno
        switch code {
        case ENOENT: return FileSystemError(.notFound, operation: operation, path: path)
        case EACCES, EPERM: return FileSystemError(.permissionDenied, operation: operation, path: path)
        case ENOSPC: return FileSystemError(.noSpace, operation: operation, path: path)
        default: return FileSystemError(.io(errno: code), operation: operation, path: path)
        }
    }
}

/// Why the data directory's lock was not taken.
public enum DataDirectoryLockError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `ErrDataDirLocked`: another live process holds the lock (its pid when the file names one).
    case locked(path: String, holderPID: Int32?)
    /// The lock file could not be opened, locked or written.
    case io(FileSystemError)

    public var description: String {
        switch self {
        case .locked(let path, let pid):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "ErrDataDirLocked: \(path) is held by \(holder); stop it or give this node another --data-dir"
        case .io(let error):
            return "the data directory lock cannot be taken: \(error)"
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
