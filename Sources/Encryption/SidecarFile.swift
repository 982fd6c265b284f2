import DurableIO

/// Reads and writes `<data-dir>/encryption/keys.json` with the crash-durable protocol (DESIGN §3.5).
///
/// A write goes to `keys.json.tmp`, syncs it, renames it over `keys.json` and syncs the directory; only then
/// does ``write(_:)`` return. After a crash at any point `keys.json` therefore holds either the previous or the
/// new content, whole. A leftover `keys.json.tmp` is never read; ``removeLeftoverTemporaryFile()`` deletes it.
public struct SidecarFile: Sendable {
    /// The directory under the data dir that holds the sidecar.
    public static let directoryName = "encryption"
    /// The sidecar's file name.
    public static let fileName = "keys.json"
    /// Where a new version is written before it is renamed over the sidecar.
    public static let temporaryFileName = "keys.json.tmp"
    /// The scratch file of ``probeDurability()``.
    public static let probeFileName = "durability-probe.tmp"

    /// The file system the data dir lives on.
    public let fileSystem: any FileSystem
    /// `<data-dir>/encryption`.
    public let directory: String

    /// Names the sidecar of a data dir; touches nothing.
    public init(dataDirectory: String, fileSystem: any FileSystem) {
        self.fileSystem = fileSystem
        self.directory = joinPath(dataDirectory, Self.directoryName)
    }

    /// `<data-dir>/encryption/keys.json`.
    public var path: String { joinPath(directory, Self.fileName) }

    var temporaryPath: String { joinPath(directory, Self.temporaryFileName) }

    /// Whether `keys.json` exists.
    public var exists: Bool { fileSystem.fileExists(at: path) }

    /// Reads and validates the sidecar.
    ///
    /// - Returns: the content, or `nil` when there is no `keys.json` (encryption never bootstrapped here).
    /// - Throws: ``SidecarError`` when the file cannot be read or is not a valid sidecar.
    public func read() throws(SidecarError) -> Sidecar? {
        guard exists else { return nil }
        let size: Int
        do { size = try fileSystem.fileSize(at: path) } catch { throw SidecarError(.readFailed(error), path: path) }
        guard size <= Sidecar.maxFileBytes else { throw SidecarError(.tooLarge(size), path: path) }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(at: path) } catch { throw SidecarError(.readFailed(error), path: path) }
        guard bytes.count <= Sidecar.maxFileBytes else { throw SidecarError(.tooLarge(bytes.count), path: path) }
        return try Sidecar(json: bytes, path: path)
    }

    /// Replaces the sidecar's content durably; returns only once the new content survives a crash.
    ///
    /// - Throws: a content ``SidecarError`` (nothing written) when `sidecar` fails ``Sidecar/validate(path:)`` or
    ///   encodes to more than ``Sidecar/maxFileBytes``; ``SidecarError/Kind/writeFailed(_:)`` when a step fails,
    ///   after which `keys.json` still holds its previous content (or, after a crash, whichever of the two
    ///   versions the disk kept, whole).
    public func write(_ sidecar: Sidecar) throws(SidecarError) {
        try sidecar.validate(path: path)
        let bytes = sidecar.encodedJSON()
        guard bytes.count <= Sidecar.maxFileBytes else { throw SidecarError(.tooLarge(bytes.count), path: path) }
        do {
            try createDirectoryDurably()
            try writeSynced(bytes, to: temporaryPath)
            try fileSystem.rename(from: temporaryPath, to: path)
            try fileSystem.syncDirectory(at: directory)
        } catch {
            throw SidecarError(.writeFailed(error), path: path)
        }
    }

    /// Deletes a `keys.json.tmp` left by a write that a crash interrupted, and makes the deletion durable.
    ///
    /// - Throws: ``SidecarError/Kind/writeFailed(_:)`` when the file exists but cannot be removed.
    public func removeLeftoverTemporaryFile() throws(SidecarError) {
        guard fileSystem.fileExists(at: temporaryPath) else { return }
        do {
            try fileSystem.removeFile(at: temporaryPath)
            try fileSystem.syncDirectory(at: directory)
        } catch {
            throw SidecarError(.writeFailed(error), path: temporaryPath)
        }
    }

    /// Runs every step of the crash-durable protocol on a scratch file in the sidecar's directory, then removes it.
    ///
    /// A file system that cannot sync a file, rename or sync a directory cannot keep the sidecar's promise, so a
    /// node refuses to start on it rather than risk reusing a nonce after a crash.
    /// - Throws: the first ``FileSystemError``; the caller reports it as `ErrUnsupportedFilesystem`.
    public func probeDurability() throws(FileSystemError) {
        let probe = joinPath(directory, Self.probeFileName)
        let renamed = probe + ".renamed"
        try createDirectoryDurably()
        try writeSynced(Array("elastickv durability probe\n".utf8), to: probe)
        try fileSystem.rename(from: probe, to: renamed)
        try fileSystem.syncDirectory(at: directory)
        try fileSystem.removeFile(at: renamed)
        try fileSystem.syncDirectory(at: directory)
    }

    private func createDirectoryDurably() throws(FileSystemError) {
        guard !fileSystem.fileExists(at: directory) else { return }
        try fileSystem.createDirectory(at: directory)
        try fileSystem.syncDirectory(at: PosixFileSystem.parentDirectory(of: directory))
    }

    private func writeSynced(_ bytes: [UInt8], to path: String) throws(FileSystemError) {
        let file = try fileSystem.openFile(at: path, mode: .truncate)
        do {
            try file.write(bytes)
            try file.sync()
        } catch {
            try? file.close()
            throw error
        }
        try file.close()
    }
}
