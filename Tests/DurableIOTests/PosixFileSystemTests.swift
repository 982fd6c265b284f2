import DurableIO
import Foundation
import Testing

@Suite struct PosixFileSystemTests {
    @Test func writeSyncRenameAndRead() throws {
        let fs = PosixFileSystem()
        let dir = NSTemporaryDirectory() + "durableio-\(UUID().uuidString)/nested"
        try fs.createDirectory(at: dir)
        defer { try? FileManager.default.removeItem(atPath: PosixFileSystem.parentDirectory(of: dir)) }
        let file = try fs.openFile(at: dir + "/f.tmp", mode: .truncate)
        try file.write(Array("hello".utf8))
        try file.sync()
        try file.close()
        try fs.rename(from: dir + "/f.tmp", to: dir + "/f")
        try fs.syncDirectory(at: dir)
        #expect(try fs.readFile(at: dir + "/f") == Array("hello".utf8))
        #expect(try fs.listDirectory(at: dir) == ["f"])
        #expect(try fs.permissions(at: dir + "/f") == 0o600)
        try fs.truncateFile(at: dir + "/f", toSize: 2)
        #expect(try fs.fileSize(at: dir + "/f") == 2)
        try fs.removeFile(at: dir + "/f")
        #expect(!fs.fileExists(at: dir + "/f"))
        #expect(throws: FileSystemError.self) { try fs.readFile(at: dir + "/f") }
    }
}
