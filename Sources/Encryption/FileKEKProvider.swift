import DurableIO

/// A KEK read from a file of exactly 32 raw bytes (`--kek-file`), used with AES Key Wrap (DESIGN §3.4).
///
/// The file must not be accessible by group or others: a KEK that other local users can read protects
/// nothing, so loading refuses with `ErrKEKFilePermissions` before reading a byte. The file is read once, at
/// construction; the bytes read are zeroed after the KEK took its own copy.
public struct FileKEKProvider: KEKProvider {
    /// Permission bits that make the provider refuse the file: any access by group or others.
    public static let forbiddenPermissionBits: UInt16 = 0o077

    /// The KEK file.
    public let path: String
    private let wrapping: WrappingKEK

    /// Loads the KEK from `path`.
    ///
    /// - Parameters:
    ///   - path: the KEK file.
    ///   - fileSystem: where to read it (a simulated file system in tests).
    /// - Throws: ``KEKError/filePermissions(path:mode:)`` (`ErrKEKFilePermissions`),
    ///   ``KEKError/fileWrongSize(path:byteCount:)`` or ``KEKError/fileUnreadable(_:)``.
    public init(path: String, fileSystem: any FileSystem = PosixFileSystem()) throws(KEKError) {
        let mode: UInt16
        do throws(FileSystemError) {
            mode = try fileSystem.permissions(at: path)
        } catch {
            throw KEKError.fileUnreadable(error)
        }
        guard mode & Self.forbiddenPermissionBits == 0 else { throw KEKError.filePermissions(path: path, mode: mode) }
        var bytes: [UInt8]
        do throws(FileSystemError) {
            bytes = try fileSystem.readFile(at: path)
        } catch {
            throw KEKError.fileUnreadable(error)
        }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        guard bytes.count == KeyEncryptionKey.byteCount else {
            throw KEKError.fileWrongSize(path: path, byteCount: bytes.count)
        }
        let kek: KeyEncryptionKey
        do throws(KeyWrapError) {
            kek = try KeyEncryptionKey(bytes: bytes)
        } catch {
            preconditionFailure("32 bytes always make a KEK")
        }
        self.path = path
        self.wrapping = WrappingKEK(kek: kek, source: "file \(path)")
    }

    /// The kek id: a fingerprint of the key that reveals nothing about it.
    public var kekID: String? { wrapping.id }

    /// Wraps a DEK under the file's KEK (40 bytes).
    ///
    /// - Throws: ``KEKError/wrapFailure(_:)`` when libcrypto fails.
    public func wrap(_ key: DataEncryptionKey) throws(KEKError) -> [UInt8] {
        try wrapping.wrap(key)
    }

    /// Unwraps a DEK wrapped under the file's KEK.
    ///
    /// - Throws: ``KEKError/mismatch(source:)`` (`ErrKEKMismatch`) when the bytes were wrapped under another
    ///   KEK or altered; ``KEKError/malformedWrappedKey(source:byteCount:)`` for a size no DEK wraps to.
    public func unwrap(_ wrapped: [UInt8]) throws(KEKError) -> DataEncryptionKey {
        try wrapping.unwrap(wrapped)
    }
}
