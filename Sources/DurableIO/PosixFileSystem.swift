#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// ``FileSystem`` over the operating system's POSIX calls.
///
/// Every write loops until all bytes are written (or an error occurs); `sync()` is `fdatasync` (`fsync` on
/// Darwin); directory sync opens the directory read-only and calls `fsync` on it.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func openFile(at path: String, mode: OpenMode) throws(FileSystemError) -> any WritableFile {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        flags |= (mode == .truncate) ? O_TRUNC : O_APPEND
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw Self.error("open", path) }
        return PosixWritableFile(descriptor: fd, path: path)
    }

    public func readFile(at path: String) throws(FileSystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error("open", path) }
        defer { _ = close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.error("read", path)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    public func fileExists(at path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func listDirectory(at path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else { throw Self.error("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public func createDirectory(at path: String) throws(FileSystemError) {
        if path.isEmpty || fileExists(at: path) { return }
        let parent = Self.parentDirectory(of: path)
        if parent != path && parent != "." && parent != "/" { try createDirectory(at: parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw Self.error("mkdir", path) }
    }

    public func rename(from source: String, to destination: String) throws(FileSystemError) {
        #if canImport(Glibc) || canImport(Musl)
            let result = Glibc.rename(source, destination)
        #else
            let result = Darwin.rename(source, destination)
        #endif
        guard result == 0 else { throw Self.error("rename", source) }
    }

    public func removeFile(at path: String) throws(FileSystemError) {
        guard unlink(path) == 0 else { throw Self.error("unlink", path) }
    }

    public func syncDirectory(at path: String) throws(FileSystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error("open directory", path) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw Self.error("fsync directory", path) }
    }

    public func truncateFile(at path: String, toSize size: Int) throws(FileSystemError) {
        guard truncate(path, off_t(size)) == 0 else { throw Self.error("truncate", path) }
    }

    public func fileSize(at path: String) throws(FileSystemError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Self.error("stat", path) }
        return Int(info.st_size)
    }

    public func permissions(at path: String) throws(FileSystemError) -> UInt16 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Self.error("stat", path) }
        return UInt16(info.st_mode & 0o777)
    }

    static func error(_ operation: String, _ path: String) -> FileSystemError {
        FileSystemError(kind(ofErrno: errno), operation: operation, path: path)
    }

    static func kind(ofErrno code: Int32) -> FileSystemError.Kind {
        switch code {
        case ENOENT: return .notFound
        case EACCES, EPERM: return .permissionDenied
        case ENOSPC: return .noSpace
        default: return .io(errno: code)
        }
    }
}

/// An open POSIX file descriptor.
final class PosixWritableFile: WritableFile {
    private var descriptor: Int32
    private let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        guard descriptor >= 0 else { throw FileSystemError(.closed, operation: "write", path: path) }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw PosixFileSystem.error("write", path)
            }
            offset += written
        }
    }

    func sync() throws(FileSystemError) {
        guard descriptor >= 0 else { throw FileSystemError(.closed, operation: "fsync", path: path) }
        #if canImport(Darwin)
            let result = fsync(descriptor)
        #else
            let result = fdatasync(descriptor)
        #endif
        guard result == 0 else { throw PosixFileSystem.error("fsync", path) }
    }

    func close() throws(FileSystemError) {
        guard descriptor >= 0 else { throw FileSystemError(.closed, operation: "close", path: path) }
        let fd = descriptor
        descriptor = -1
        guard Glibc.close(fd) == 0 else { throw PosixFileSystem.error("close", path) }
    }
}
