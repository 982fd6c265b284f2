/// The small set of file operations every durable component needs.
///
/// Durability protocols (the encryption sidecar, the Raft log, snapshots) are written against this protocol
/// so that tests can run them over a simulated disk that loses unsynced writes, tears writes and fails
/// `fsync` on demand. The production implementation is ``PosixFileSystem``.
///
/// The durability contract every implementation follows, and every caller relies on:
/// - bytes written to a file survive a crash only after ``WritableFile/sync()`` on that file returned;
/// - a create, rename or remove survives a crash only after ``syncDirectory(at:)`` on the parent directory
///   returned;
/// - `rename(from:to:)` is atomic: after a crash the destination names either the old or the new file.
public protocol FileSystem: Sendable {
    /// Opens a file for writing, creating it when it does not exist.
    ///
    /// - Parameters:
    ///   - path: the file to open.
    ///   - mode: whether to truncate the file or append to it.
    func openFile(at path: String, mode: OpenMode) throws(FileSystemError) -> any WritableFile

    /// Reads the whole content of a file.
    func readFile(at path: String) throws(FileSystemError) -> [UInt8]

    /// Whether a file or directory exists at `path`.
    func fileExists(at path: String) -> Bool

    /// The names (not paths) of the entries of a directory, sorted bytewise.
    func listDirectory(at path: String) throws(FileSystemError) -> [String]

    /// Creates a directory and any missing parents; succeeds when it already exists.
    func createDirectory(at path: String) throws(FileSystemError)

    /// Atomically renames a file, replacing the destination when it exists.
    func rename(from source: String, to destination: String) throws(FileSystemError)

    /// Removes a file; throws ``FileSystemError/Kind/notFound`` when it does not exist.
    func removeFile(at path: String) throws(FileSystemError)

    /// Makes the creates, renames and removes of entries in a directory durable.
    func syncDirectory(at path: String) throws(FileSystemError)

    /// Shortens (or extends with zeros) a file to `size` bytes. The new size is durable after a sync.
    func truncateFile(at path: String, toSize size: Int) throws(FileSystemError)

    /// The size of a file in bytes.
    func fileSize(at path: String) throws(FileSystemError) -> Int

    /// The POSIX permission bits (`st_mode & 0o777`) of a file.
    func permissions(at path: String) throws(FileSystemError) -> UInt16
}

/// How ``FileSystem/openFile(at:mode:)`` treats existing content.
public enum OpenMode: Sendable, Hashable {
    /// Create the file or cut an existing one to zero length.
    case truncate
    /// Create the file or keep its content; writes go to the end.
    case append
}

/// An open file that one owner writes to.
///
/// Not `Sendable`: exactly one task or thread owns an open file at a time.
public protocol WritableFile: AnyObject {
    /// Writes all of `bytes` at the end of the file.
    func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError)
    /// Makes every byte written so far durable (`fdatasync`).
    func sync() throws(FileSystemError)
    /// Closes the file. Further calls throw.
    func close() throws(FileSystemError)
}

extension WritableFile {
    /// Writes all of `bytes` at the end of the file.
    public func write(_ bytes: [UInt8]) throws(FileSystemError) {
        var failure: FileSystemError?
        bytes.withUnsafeBytes { buffer in
            do throws(FileSystemError) { try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

extension FileSystem {
    /// The directory part of a path (`"."` when there is none).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[path.startIndex..<slash])
    }
}

/// Joins path components with `/`.
public func joinPath(_ base: String, _ component: String) -> String {
    if base.isEmpty { return component }
    return base.hasSuffix("/") ? base + component : base + "/" + component
}
