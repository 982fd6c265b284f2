import DurableIO
import Encryption
import Synchronization
import TestSupport
import Testing

/// ``ReloadingKEKProvider``: a replaced `--kek-file` is picked up by `reload()` and, on a follower, by an unwrap
/// that the current KEK refuses; nothing else replaces the KEK in use.
@Suite struct ReloadingKEKProviderTests {
    static let path = "/etc/elastickv/kek"
    static let oldKEK: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: 0x10 + $0) }
    static let newKEK: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: 0xC0 + $0 * 3) }
    static let mismatch = KEKError.mismatch(source: "file \(path)")

    /// Counts how often a loader read the KEK source.
    final class LoadCounter: Sendable {
        private let value = Mutex(0)
        var count: Int { value.withLock { $0 } }
        func record() { value.withLock { $0 += 1 } }
    }

    /// A KEK file on a simulated disk and the provider reloading it, counting reads of the source.
    final class Fixture: Sendable {
        let fileSystem: SimulatedFileSystem
        let provider: ReloadingKEKProvider
        let loads: LoadCounter

        init() throws {
            let path = ReloadingKEKProviderTests.path
            let fileSystem = SimulatedFileSystem()
            try fileSystem.createDirectory(at: "/etc/elastickv")
            try Self.write(ReloadingKEKProviderTests.oldKEK, to: fileSystem)
            let loads = LoadCounter()
            self.fileSystem = fileSystem
            self.loads = loads
            provider = ReloadingKEKProvider(initial: try FileKEKProvider(path: path, fileSystem: fileSystem)) {
                loads.record()
                return try FileKEKProvider(path: path, fileSystem: fileSystem)
            }
        }

        static func write(_ bytes: [UInt8], to fileSystem: SimulatedFileSystem) throws {
            let path = ReloadingKEKProviderTests.path
            let file = try fileSystem.openFile(at: path, mode: .truncate)
            try file.write(bytes)
            try file.sync()
            try file.close()
            try fileSystem.setPermissions(0o600, at: path)
        }

        /// Replaces the KEK file's contents, as an operator does before `rewrap-deks`.
        func replaceKEK(with bytes: [UInt8]) throws { try Self.write(bytes, to: fileSystem) }
    }

    /// A provider over a fixed KEK, to check which KEK wrapped a value.
    static func fixed(_ bytes: [UInt8]) throws -> FileKEKProvider {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(at: "/etc/elastickv")
        try Fixture.write(bytes, to: fileSystem)
        return try FileKEKProvider(path: path, fileSystem: fileSystem)
    }

    static let dek = try! DataEncryptionKey(bytes: (0..<32).map { UInt8(truncatingIfNeeded: 0x55 ^ $0) })
    static let otherDEK = try! DataEncryptionKey(bytes: (0..<32).map { UInt8(truncatingIfNeeded: 0xA3 + $0 * 5) })

    @Test func bytesUnderTheCurrentKEKUnwrap() throws {
        let fixture = try Fixture()
        let wrapped = try Self.fixed(Self.oldKEK).wrap(Self.dek)
        #expect(try fixture.provider.unwrap(wrapped).hasSameBytes(as: Self.dek))
        #expect(fixture.loads.count == 0, "the source is read only when the current KEK refuses the bytes")
    }

    @Test func bytesUnderAReplacedKEKUnwrapOnceTheSourceChanged() throws {
        let fixture = try Fixture()
        let wrappedUnderNew = try Self.fixed(Self.newKEK).wrap(Self.dek)
        #expect(throws: Self.mismatch) { try Self.fixed(Self.oldKEK).unwrap(wrappedUnderNew) }
        try fixture.replaceKEK(with: Self.newKEK)

        #expect(try fixture.provider.unwrap(wrappedUnderNew).hasSameBytes(as: Self.dek))
        #expect(fixture.loads.count == 1)
    }

    @Test func theReplacedKEKIsAdoptedForWrapAfterAnUnwrapNeededIt() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)
        _ = try fixture.provider.unwrap(try Self.fixed(Self.newKEK).wrap(Self.dek))

        let wrapped = try fixture.provider.wrap(Self.otherDEK)

        #expect(try Self.fixed(Self.newKEK).unwrap(wrapped).hasSameBytes(as: Self.otherDEK))
        #expect(throws: Self.mismatch) { try Self.fixed(Self.oldKEK).unwrap(wrapped) }
    }

    @Test func theReplacedKEKIsAdoptedSoOldBytesNoLongerUnwrap() throws {
        let fixture = try Fixture()
        let wrappedUnderOld = try Self.fixed(Self.oldKEK).wrap(Self.otherDEK)
        try fixture.replaceKEK(with: Self.newKEK)
        _ = try fixture.provider.unwrap(try Self.fixed(Self.newKEK).wrap(Self.dek))

        #expect(throws: Self.mismatch) { try fixture.provider.unwrap(wrappedUnderOld) }
    }

    @Test func garbageStillThrowsAndKeepsTheOldKEK() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)
        let garbage = [UInt8](repeating: 0x5A, count: 40)

        #expect(throws: Self.mismatch) { try fixture.provider.unwrap(garbage) }

        let wrapped = try fixture.provider.wrap(Self.dek)
        #expect(try Self.fixed(Self.oldKEK).unwrap(wrapped).hasSameBytes(as: Self.dek))
        #expect(throws: Self.mismatch) { try Self.fixed(Self.newKEK).unwrap(wrapped) }
    }

    @Test func malformedBytesThrowTheCurrentKEKsError() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)
        #expect(throws: KEKError.malformedWrappedKey(source: "file \(Self.path)", byteCount: 3)) {
            try fixture.provider.unwrap([1, 2, 3])
        }
    }

    @Test func unwrapWithAnUnreadableSourceThrowsAndKeepsTheOldKEK() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)
        try fixture.fileSystem.setPermissions(0o644, at: Self.path)
        let wrappedUnderNew = try Self.fixed(Self.newKEK).wrap(Self.dek)

        #expect(throws: Self.mismatch) { try fixture.provider.unwrap(wrappedUnderNew) }

        let wrapped = try fixture.provider.wrap(Self.otherDEK)
        #expect(try Self.fixed(Self.oldKEK).unwrap(wrapped).hasSameBytes(as: Self.otherDEK))
    }

    @Test func reloadSwitchesWrapToTheNewKEK() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)

        try fixture.provider.reload()

        let wrapped = try fixture.provider.wrap(Self.dek)
        #expect(try Self.fixed(Self.newKEK).unwrap(wrapped).hasSameBytes(as: Self.dek))
        #expect(throws: Self.mismatch) { try Self.fixed(Self.oldKEK).unwrap(wrapped) }
    }

    @Test func failedReloadThrowsTheLoadersErrorAndKeepsTheOldKEK() throws {
        let fixture = try Fixture()
        try fixture.replaceKEK(with: Self.newKEK)
        try fixture.fileSystem.setPermissions(0o640, at: Self.path)

        #expect(throws: KEKError.filePermissions(path: Self.path, mode: 0o640)) { try fixture.provider.reload() }

        let wrapped = try fixture.provider.wrap(Self.dek)
        #expect(try Self.fixed(Self.oldKEK).unwrap(wrapped).hasSameBytes(as: Self.dek))
        #expect(throws: Self.mismatch) { try Self.fixed(Self.newKEK).unwrap(wrapped) }
    }

    @Test func failedReloadOfAMissingFileKeepsTheOldKEK() throws {
        let fixture = try Fixture()
        try fixture.fileSystem.removeFile(at: Self.path)

        #expect(throws: KEKError.self) { try fixture.provider.reload() }

        let wrapped = try fixture.provider.wrap(Self.dek)
        #expect(try Self.fixed(Self.oldKEK).unwrap(wrapped).hasSameBytes(as: Self.dek))
    }
}

/// The KEK check value members compare before key commands.
@Suite struct KEKCheckTests {
    static func provider(_ byte: UInt8) throws -> any KEKProvider {
        try ReloadingKEKProviderTests.fixed([UInt8](repeating: byte, count: 32))
    }

    @Test func equalKEKsGiveEqualValuesAndDifferentOnesDiffer() throws {
        let first = try #require(KEKCheck.value(of: try Self.provider(1)))
        #expect(first.count == 16)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(KEKCheck.value(of: try Self.provider(1)) == first)
        #expect(KEKCheck.value(of: try Self.provider(2)) != first)
    }
}
