import DurableIO
import Foundation
import TestSupport
import Testing

@testable import Encryption

/// The file and environment KEK providers: loading rules, permission refusal, wrap/unwrap and mismatch.
@Suite struct KEKProviderTests {
    static let kekBytes: [UInt8] = (0..<32).map { UInt8(0xA0 &+ $0) }

    /// A fresh private directory with a KEK file of `bytes` and mode `mode`.
    static func writeKEKFile(_ bytes: [UInt8], mode: Int) throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kek-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/kek"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect(chmod(path, mode_t(mode)) == 0)
        return path
    }

    static func removeKEKFile(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    @Test func realFileReadableByOthersIsRefusedAndPrivateFileLoads() throws {
        let path = try Self.writeKEKFile(Self.kekBytes, mode: 0o644)
        defer { Self.removeKEKFile(path) }
        do throws(KEKError) {
            _ = try FileKEKProvider(path: path)
            Issue.record("a 0644 KEK file must be refused")
        } catch {
            #expect(error == .filePermissions(path: path, mode: 0o644))
            let description = String(describing: error)
            #expect(description.contains("ErrKEKFilePermissions"))
            #expect(description.contains(path))
            #expect(description.contains("chmod 600"))
            #expect(description.contains("0644"))
        }
        #expect(chmod(path, 0o600) == 0)
        let provider = try FileKEKProvider(path: path)
        let dek = CipherFixtures.key(seed: 4)
        let wrapped = try provider.wrap(dek)
        #expect(wrapped.count == 40)
        #expect(try provider.unwrap(wrapped).hasSameBytes(as: dek))
    }

    @Test(arguments: [0o640, 0o604, 0o660, 0o606, 0o610, 0o601, 0o777])
    func anyGroupOrOtherAccessIsRefused(mode: Int) throws {
        let path = try Self.writeKEKFile(Self.kekBytes, mode: mode)
        defer { Self.removeKEKFile(path) }
        #expect(throws: KEKError.filePermissions(path: path, mode: UInt16(mode))) {
            _ = try FileKEKProvider(path: path)
        }
    }

    @Test func ownerOnlyModesAreAccepted() throws {
        for mode in [0o600, 0o400] {
            let path = try Self.writeKEKFile(Self.kekBytes, mode: mode)
            defer { Self.removeKEKFile(path) }
            #expect(throws: Never.self) { _ = try FileKEKProvider(path: path) }
        }
    }

    @Test func simulatedFileSystemPermissionsAreHonoured() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(at: "/etc/elastickv")
        let file = try fileSystem.openFile(at: "/etc/elastickv/kek", mode: .truncate)
        try file.write(Self.kekBytes)
        try file.close()
        try fileSystem.setPermissions(0o640, at: "/etc/elastickv/kek")
        #expect(throws: KEKError.filePermissions(path: "/etc/elastickv/kek", mode: 0o640)) {
            _ = try FileKEKProvider(path: "/etc/elastickv/kek", fileSystem: fileSystem)
        }
        try fileSystem.setPermissions(0o600, at: "/etc/elastickv/kek")
        let provider = try FileKEKProvider(path: "/etc/elastickv/kek", fileSystem: fileSystem)
        let real = try Self.writeKEKFile(Self.kekBytes, mode: 0o600)
        defer { Self.removeKEKFile(real) }
        let dek = CipherFixtures.key(seed: 8)
        #expect(try FileKEKProvider(path: real).unwrap(provider.wrap(dek)).hasSameBytes(as: dek))
    }

    @Test(arguments: [0, 16, 31, 33, 44, 64])
    func fileOfTheWrongSizeIsRefused(size: Int) throws {
        let path = try Self.writeKEKFile([UInt8](repeating: 0x41, count: size), mode: 0o600)
        defer { Self.removeKEKFile(path) }
        #expect(throws: KEKError.fileWrongSize(path: path, byteCount: size)) { _ = try FileKEKProvider(path: path) }
    }

    @Test func missingFileIsRefused() {
        let path = "/nonexistent-\(UUID().uuidString)/kek"
        #expect(throws: KEKError.fileUnreadable(FileSystemError(.notFound, operation: "stat", path: path))) {
            _ = try FileKEKProvider(path: path)
        }
    }

    @Test func unwrapUnderAnotherKEKNamesErrKEKMismatch() throws {
        let first = try Self.writeKEKFile(Self.kekBytes, mode: 0o600)
        let second = try Self.writeKEKFile(Self.kekBytes.map { $0 ^ 0xFF }, mode: 0o600)
        defer {
            Self.removeKEKFile(first)
            Self.removeKEKFile(second)
        }
        let wrapped = try FileKEKProvider(path: first).wrap(CipherFixtures.key(seed: 1))
        let secondProvider = try FileKEKProvider(path: second)
        do throws(KEKError) {
            _ = try secondProvider.unwrap(wrapped)
            Issue.record("unwrap under another KEK must fail")
        } catch {
            #expect(error == .mismatch(source: "file \(second)"))
            #expect(String(describing: error).contains("ErrKEKMismatch"))
        }
        var altered = wrapped
        altered[39] ^= 1
        #expect(throws: KEKError.mismatch(source: "file \(first)")) {
            _ = try FileKEKProvider(path: first).unwrap(altered)
        }
        #expect(throws: KEKError.malformedWrappedKey(source: "file \(first)", byteCount: 32)) {
            _ = try FileKEKProvider(path: first).unwrap(Array(wrapped.prefix(32)))
        }
    }

    /// Sets `name` to `value` and constructs a provider from it, under the environment lock.
    static func provider(name: String, value: String?) throws(KEKError) -> EnvironmentKEKProvider {
        try CipherFixtures.environmentLock.withLock { (_) throws(KEKError) in
            if let value { setenv(name, value, 1) }
            defer { precondition(getenv(name) == nil, "the provider must unset the variable") }
            return try EnvironmentKEKProvider(variableName: name)
        }
    }

    @Test func environmentProviderReadsDecodesAndUnsetsTheVariable() throws {
        let name = "ELASTICKV_KEK_TEST_\(UUID().uuidString.prefix(8))"
        let provider = try Self.provider(name: name, value: "  " + Data(Self.kekBytes).base64EncodedString() + "\n")
        let path = try Self.writeKEKFile(Self.kekBytes, mode: 0o600)
        defer { Self.removeKEKFile(path) }
        let dek = CipherFixtures.key(seed: 6)
        #expect(try FileKEKProvider(path: path).unwrap(provider.wrap(dek)).hasSameBytes(as: dek))
        #expect(try provider.unwrap(FileKEKProvider(path: path).wrap(dek)).hasSameBytes(as: dek))
        #expect(EnvironmentKEKProvider.defaultVariableName == "ELASTICKV_KEK_BASE64")
    }

    @Test func environmentProviderRefusesMissingInvalidAndWrongSizeValues() {
        let name = "ELASTICKV_KEK_TEST_\(UUID().uuidString.prefix(8))"
        #expect(throws: KEKError.environmentVariableMissing(name: name)) {
            _ = try Self.provider(name: name, value: nil)
        }
        let invalid = ["not base64!", "QUJD=", "QU=JD", "QUJD====", "Q", String(repeating: "A", count: 43) + "*"]
        for value in invalid {
            #expect(throws: KEKError.environmentInvalidBase64(name: name), "\(value)") {
                _ = try Self.provider(name: name, value: value)
            }
        }
        for size in [16, 31, 33] {
            #expect(throws: KEKError.environmentWrongSize(name: name, byteCount: size)) {
                _ = try Self.provider(name: name, value: Data([UInt8](repeating: 3, count: size)).base64EncodedString())
            }
        }
        #expect(throws: KEKError.environmentVariableMissing(name: name)) {
            _ = try Self.provider(name: name, value: "")
        }
    }

    @Test func strictBase64DecodesEveryPaddingForm() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Array(Data(bytes).base64EncodedString().utf8)
            var output = [UInt8](repeating: 0, count: text.count / 4 * 3 + 3)
            let count = text.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { StrictBase64.decode(input, into: $0) }
            }
            #expect(count == length)
            #expect(Array(output.prefix(length)) == bytes)
        }
    }
}
