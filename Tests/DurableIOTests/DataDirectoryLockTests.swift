import DurableIO
import Foundation
import Testing
import TestSupport

/// `<data-dir>/LOCK`: one holder at a time, a refused second holder changes nothing, and the lock is free
/// again once its holder lets go.
@Suite struct DataDirectoryLockTests {
    @Test func aSecondHolderIsRefusedWithTheFirstHoldersPIDAndChangesNothing() throws {
        let dir = TemporaryDirectory("lock")
        defer { dir.remove() }
        let first = try DataDirectoryLock(directory: dir.path)
        let before = try Data(contentsOf: URL(fileURLWithPath: first.path))
        #expect(String(decoding: before, as: UTF8.self) == "\(getpid())\n")
        #expect(throws: DataDirectoryLockError.locked(path: first.path, holderPID: getpid())) {
            _ = try DataDirectoryLock(directory: dir.path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == before)
        let refusal = DataDirectoryLockError.locked(path: first.path, holderPID: 4242).description
        #expect(refusal.hasPrefix("ErrDataDirLocked: "))
        #expect(refusal.contains("process 4242") && refusal.contains("--data-dir"))
        withExtendedLifetime(first) {}
    }

    @Test func theLockIsFreeOnceItsHolderIsGone() throws {
        let dir = TemporaryDirectory("lock-release")
        defer { dir.remove() }
        do { _ = try DataDirectoryLock(directory: dir.path) }
        let again = try DataDirectoryLock(directory: dir.path)
        #expect(FileManager.default.fileExists(atPath: again.path))
    }

    @Test func theLockFileIsOwnerOnly() throws {
        let dir = TemporaryDirectory("lock-mode")
        defer { dir.remove() }
        let lock = try DataDirectoryLock(directory: dir.path)
        let attributes = try FileManager.default.attributesOfItem(atPath: lock.path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
    }

    @Test func aMissingDirectoryIsAnIOError() {
        #expect(throws: DataDirectoryLockError.self) {
            _ = try DataDirectoryLock(directory: "/nonexistent-elastickv-dir/x")
        }
    }

    @Test func aStaleFileFromACrashedHolderDoesNotBlock() throws {
        let dir = TemporaryDirectory("lock-stale")
        defer { dir.remove() }
        try Data("999999\n".utf8).write(to: URL(fileURLWithPath: dir.file(DataDirectoryLock.fileName)))
        let lock = try DataDirectoryLock(directory: dir.path)
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
    }
}
