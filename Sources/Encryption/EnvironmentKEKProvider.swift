#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A KEK given as base64 in an environment variable (`ELASTICKV_KEK_BASE64`), for tests and throwaway clusters.
///
/// The variable is read once, at construction, then its value is overwritten with zeros in place and the
/// variable is removed, so child processes and later readers of the environment never see it. Decoding is
/// strict standard base64 (surrounding whitespace allowed).
public struct EnvironmentKEKProvider: KEKProvider {
    /// The variable the node reads by default.
    public static let defaultVariableName = "ELASTICKV_KEK_BASE64"

    /// The variable the KEK was read from.
    public let variableName: String
    private let wrapping: WrappingKEK

    /// Reads, decodes and removes the variable.
    ///
    /// The process environment is not thread-safe: call this at start-up, before other threads read it.
    ///
    /// - Throws: ``KEKError/environmentVariableMissing(name:)`` (`ErrKEKRequired`),
    ///   ``KEKError/environmentInvalidBase64(name:)`` or ``KEKError/environmentWrongSize(name:byteCount:)``.
    public init(variableName: String = defaultVariableName) throws(KEKError) {
        guard let value = getenv(variableName) else {
            throw KEKError.environmentVariableMissing(name: variableName)
        }
        let length = strlen(value)
        let decoded = UnsafeMutableRawBufferPointer.allocate(byteCount: length / 4 * 3 + 3, alignment: 16)
        decoded.initializeMemory(as: UInt8.self, repeating: 0)
        defer {
            SecretBytes.zero(decoded)
            decoded.deallocate()
        }
        let text = UnsafeRawBufferPointer(start: value, count: length)
        let decodedCount = StrictBase64.decode(text, into: decoded)
        SecretBytes.zero(UnsafeMutableRawBufferPointer(start: value, count: length))
        unsetenv(variableName)
        guard length > 0 else { throw KEKError.environmentVariableMissing(name: variableName) }
        guard let decodedCount else { throw KEKError.environmentInvalidBase64(name: variableName) }
        guard decodedCount == KeyEncryptionKey.byteCount else {
            throw KEKError.environmentWrongSize(name: variableName, byteCount: decodedCount)
        }
        let kek: KeyEncryptionKey
        do throws(KeyWrapError) {
            kek = try KeyEncryptionKey(bytes: UnsafeRawBufferPointer(rebasing: decoded[0..<decodedCount]))
        } catch {
            preconditionFailure("32 bytes always make a KEK")
        }
        self.variableName = variableName
        self.wrapping = WrappingKEK(kek: kek, source: "environment variable \(variableName)")
    }

    /// The kek id: a fingerprint of the key that reveals nothing about it.
    public var kekID: String? { wrapping.id }

    /// Wraps a DEK under the KEK (40 bytes).
    ///
    /// - Throws: ``KEKError/wrapFailure(_:)`` when libcrypto fails.
    public func wrap(_ key: DataEncryptionKey) throws(KEKError) -> [UInt8] {
        try wrapping.wrap(key)
    }

    /// Unwraps a DEK wrapped under the KEK.
    ///
    /// - Throws: ``KEKError/mismatch(source:)`` (`ErrKEKMismatch`) when the bytes were wrapped under another
    ///   KEK or altered; ``KEKError/malformedWrappedKey(source:byteCount:)`` for a size no DEK wraps to.
    public func unwrap(_ wrapped: [UInt8]) throws(KEKError) -> DataEncryptionKey {
        try wrapping.unwrap(wrapped)
    }
}
