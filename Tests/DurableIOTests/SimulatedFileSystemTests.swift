import DurableIO
import Testing
import TestSupport

@Suite struct SimulatedFileSystemTests {
    @Test func unsyncedBytesAreLostOnCrash() throws {
        let fs = SimulatedFileSystem()
        let file = try fs.openFile(at: "/a", mode: .append)
        try file.write([1, 2, 3])
        try file.sync()
        try fs.syncDirectory(at: "/")
        try file.write([4, 5])
        fs.crash()
        #expect(try fs.readFile(at: "/a") == [1, 2, 3])
    }

    @Test func createWithoutDirectorySyncIsLostOnCrash() throws {
        let fs = SimulatedFileSystem()
        let file = try fs.openFile(at: "/a", mode: .truncate)
        try file.write([1])
        try file.sync()
        fs.crash()
        #expect(!fs.fileExists(at: "/a"))
    }

    @Test func renameBecomesDurableOnlyAfterDirectorySync() throws {
        let fs = SimulatedFileSystem()
        for (name, byte) in [("/old", UInt8(1)), ("/new", 2)] {
            let file = try fs.openFile(at: name, mode: .truncate)
            try file.write([byte])
            try file.sync()
        }
        try fs.syncDirectory(at: "/")
        try fs.rename(from: "/new", to: "/old")
        fs.crash()
        #expect(try fs.readFile(at: "/old") == [1])
        try fs.rename(from: "/new", to: "/old")
        try fs.syncDirectory(at: "/")
        fs.crash()
        #expect(try fs.readFile(at: "/old") == [2])
        #expect(!fs.fileExists(at: "/new"))
    }

    @Test func tornWriteKeepsAPrefixOfUnsyncedBytes() throws {
        let fs = SimulatedFileSystem(seed: 7)
        let file = try fs.openFile(at: "/log", mode: .append)
        try fs.syncDirectory(at: "/")
        try file.write([1, 2])
        try file.sync()
        try file.write(Array(repeating: 9, count: 100))
        fs.crash(tearUnsyncedWrites: true)
        let content = try fs.readFile(at: "/log")
        #expect(content.starts(with: [1, 2]))
        #expect(content.count <= 102)
        #expect(content.dropFirst(2).allSatisfy { $0 == 9 })
    }

    @Test func crashFaultStopsEveryLaterOperation() throws {
        let fs = SimulatedFileSystem()
        fs.faultPolicy = { $0.number == 1 ? .crash : nil }
        let file = try fs.openFile(at: "/a", mode: .append)
        #expect(throws: FileSystemError.self) { try file.write([1]) }
        #expect(fs.isCrashed)
        #expect(throws: FileSystemError.self) { try file.sync() }
        fs.crash()
        #expect(!fs.isCrashed)
    }

    @Test func failFaultLeavesStateUnchanged() throws {
        let fs = SimulatedFileSystem()
        let file = try fs.openFile(at: "/a", mode: .append)
        fs.faultPolicy = { $0.kind == .write ? .fail : nil }
        #expect(throws: FileSystemError(.injectedFault, operation: "write", path: "/a")) { try file.write([1]) }
        #expect(try fs.readFile(at: "/a") == [])
    }
}
