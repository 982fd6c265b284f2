import DurableIO
import Encryption
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Sidecar file protocol")
struct SidecarFileTests {
    static let dataDirectory = "/data/n1"

    static func sample(index: UInt64, epoch: UInt16 = 3) -> Sidecar {
        Sidecar(
            raftAppliedIndex: index, activeKeyIDs: [.storage: 10, .raft: 20],
            keys: [
                10: .init(
                    purpose: .storage, wrapped: WrappedDEK([1, 2, 3, UInt8(index % 256)]),
                    created: "2026-04-29T10:00:00Z",
                    localEpoch: epoch),
                20: .init(
                    purpose: .raft, wrapped: WrappedDEK([4, 5, 6]), created: "2026-04-29T10:00:00Z", localEpoch: epoch),
            ])
    }

    static func fileSystem() -> (SimulatedFileSystem, SidecarFile) {
        let fileSystem = SimulatedFileSystem(seed: 11)
        try! fileSystem.createDirectory(at: dataDirectory)
        return (fileSystem, SidecarFile(dataDirectory: dataDirectory, fileSystem: fileSystem))
    }

    @Test("a write can be read back, and a missing sidecar reads as nil")
    func writeAndRead() throws {
        let (_, file) = Self.fileSystem()
        #expect(try file.read() == nil)
        try file.write(Self.sample(index: 5))
        #expect(try file.read() == Self.sample(index: 5))
        #expect(file.path == "/data/n1/encryption/keys.json")
    }

    @Test("a write is: write tmp, fsync tmp, close, rename over keys.json, fsync the directory")
    func protocolSteps() throws {
        let (fileSystem, file) = Self.fileSystem()
        try file.write(Self.sample(index: 1))
        let start = fileSystem.operationCount
        try file.write(Self.sample(index: 2))
        let steps = fileSystem.operationLog[start...].map { "\($0.kind.rawValue) \($0.path)" }
        #expect(
            steps == [
                "open /data/n1/encryption/keys.json.tmp", "write /data/n1/encryption/keys.json.tmp",
                "sync /data/n1/encryption/keys.json.tmp", "close /data/n1/encryption/keys.json.tmp",
                "rename /data/n1/encryption/keys.json.tmp", "syncDirectory /data/n1/encryption",
            ])
    }

    @Test("a crash at any step leaves the old or the new sidecar, whole", arguments: [false, true])
    func crashAtEveryStep(tear: Bool) throws {
        var step = 0
        while true {
            let (fileSystem, file) = Self.fileSystem()
            try file.write(Self.sample(index: 1))
            let crashAt = fileSystem.operationCount + step
            fileSystem.faultPolicy = { $0.number == crashAt ? .crash : nil }
            let finished: Bool
            do {
                try file.write(Self.sample(index: 2))
                finished = true
            } catch {
                guard case .writeFailed = error.kind else { throw error }
                finished = false
            }
            fileSystem.crash(tearUnsyncedWrites: tear)
            fileSystem.faultPolicy = { _ in nil }
            let after = try file.read()
            #expect(after == Self.sample(index: 1) || after == Self.sample(index: 2), "crash at step \(step)")
            if finished {
                #expect(after == Self.sample(index: 2), "an acknowledged write must survive")
                break
            }
            step += 1
        }
        #expect(step == 6)
    }

    @Test("a failed step throws and leaves the previous content readable")
    func failAtEveryStep() throws {
        for step in 0..<6 {
            let (fileSystem, file) = Self.fileSystem()
            try file.write(Self.sample(index: 1))
            let failAt = fileSystem.operationCount + step
            fileSystem.faultPolicy = { $0.number == failAt ? .fail : nil }
            #expect(throws: SidecarError.self) { try file.write(Self.sample(index: 2)) }
            fileSystem.faultPolicy = { _ in nil }
            let content = try file.read()
            #expect(content == (step >= 5 ? Self.sample(index: 2) : Self.sample(index: 1)), "step \(step)")
        }
    }

    @Test("a leftover keys.json.tmp is ignored by reads and removed durably")
    func leftoverTemporaryFile() throws {
        let (fileSystem, file) = Self.fileSystem()
        try file.write(Self.sample(index: 1))
        let temporary = file.directory + "/" + SidecarFile.temporaryFileName
        let handle = try fileSystem.openFile(at: temporary, mode: .truncate)
        try handle.write(Array("{\"version\": 1, torn".utf8))
        try handle.sync()
        try handle.close()
        try fileSystem.syncDirectory(at: file.directory)
        #expect(try file.read() == Self.sample(index: 1))
        try file.removeLeftoverTemporaryFile()
        fileSystem.crash()
        #expect(!fileSystem.fileExists(at: temporary))
        try file.removeLeftoverTemporaryFile()
    }

    @Test("the durability probe leaves no file behind and fails on any failed step")
    func probe() throws {
        let (fileSystem, file) = Self.fileSystem()
        let start = fileSystem.operationCount
        try file.probeDurability()
        #expect(try fileSystem.listDirectory(at: file.directory).isEmpty)
        let steps = fileSystem.operationCount - start
        #expect(steps == 10)
        for step in 0..<steps {
            let (faulty, faultyFile) = Self.fileSystem()
            let failAt = faulty.operationCount + step
            faulty.faultPolicy = { $0.number == failAt ? .fail : nil }
            #expect(throws: FileSystemError.self, "step \(step)") { try faultyFile.probeDurability() }
        }
    }

    @Test("reading a corrupt file reports the path and the problem")
    func corrupt() throws {
        let (fileSystem, file) = Self.fileSystem()
        try file.write(Self.sample(index: 1))
        let handle = try fileSystem.openFile(at: file.path, mode: .truncate)
        try handle.write(Array("{\"version\": 1".utf8))
        try handle.close()
        #expect(throws: SidecarError.self) { try file.read() }
        do { _ = try file.read() } catch { #expect(error.path == file.path) }
    }

    @Test("files above the size limit are neither read nor written")
    func sizeLimit() throws {
        let (fileSystem, file) = Self.fileSystem()
        try file.write(Self.sample(index: 1))
        let handle = try fileSystem.openFile(at: file.path, mode: .append)
        try handle.write(Array(repeating: UInt8(ascii: " "), count: Sidecar.maxFileBytes))
        try handle.close()
        #expect(throws: SidecarError(.tooLarge(try fileSystem.fileSize(at: file.path)), path: file.path)) {
            try file.read()
        }
        var huge = Self.sample(index: 2)
        for id in KeyID(100)..<KeyID(100 + 40_000) {
            huge.keys[id] = .init(purpose: .raft, wrapped: WrappedDEK(Array(repeating: 7, count: 64)), created: "x",
                                  localEpoch: 0)
        }
        #expect(throws: SidecarError.self) { try file.write(huge) }
    }

    @Test("the protocol works on the real file system")
    func posix() throws {
        var template = Array("/tmp/elastickv-sidecar-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        let file = SidecarFile(dataDirectory: directory, fileSystem: PosixFileSystem())
        try file.probeDurability()
        try file.write(Self.sample(index: 7))
        try file.write(Self.sample(index: 8))
        #expect(try file.read() == Self.sample(index: 8))
        #expect(try PosixFileSystem().listDirectory(at: file.directory) == [SidecarFile.fileName])
        try PosixFileSystem().removeFile(at: file.path)
        _ = rmdir(file.directory)
        _ = rmdir(directory)
    }
}
