import DurableIO
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Raft

/// Group commit under concurrent appenders, and a throughput measurement on the real disk.
@Suite struct StorageGroupCommitTests {
    @Test func concurrentAppendersAllBecomeDurableWithFewerSyncsThanAppends() throws {
        let simulated = SimulatedFileSystem()
        let fs = SlowSyncFileSystem(base: simulated, syncDelayMicroseconds: 2_000)
        let log = try DurableLog.open(
            directory: "/data", fileSystem: fs,
            configuration: RaftLogConfiguration(maxSegmentBytes: 4096, maxRecordBytes: 100, maxUnsyncedBytes: 240))
        let committer = GroupCommitter(log: log, maxUnsyncedEntries: 16)
        let threadCount = 8
        let appendsPerThread = 25
        let results = Mutex<[ClosedRange<UInt64>: [UInt8]]>([:])
        runOnThreads(threads: threadCount) { thread in
            for sequence in 0..<appendsPerThread {
                let payload: [UInt8] = [UInt8(thread), UInt8(sequence)]
                do {
                    let range = try committer.append { next in [Entry(term: 1, index: next, data: payload)] }
                    results.withLock { $0[range] = payload }
                } catch {
                    Issue.record("append failed: \(error)")
                }
            }
        }
        let total = threadCount * appendsPerThread
        let acknowledged = results.withLock { $0 }
        #expect(acknowledged.count == total)
        let statistics = committer.statistics
        #expect(statistics.appends == total)
        #expect(statistics.syncs < total, "group commit batched nothing: \(statistics.syncs) syncs")
        simulated.crash()
        let recovered = try readAllEntries(DurableLog.open(directory: "/data", fileSystem: simulated))
        #expect(recovered.count == total)
        for entry in recovered { #expect(acknowledged[entry.index...entry.index] == entry.data) }
    }

    @Test func readsSnapshotsAndCompactionInterleaveWithConcurrentAppenders() throws {
        let simulated = SimulatedFileSystem()
        let fs = SlowSyncFileSystem(base: simulated, syncDelayMicroseconds: 500)
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        let committer = GroupCommitter(log: log, maxUnsyncedEntries: 8)
        let acknowledged = Mutex<[UInt64: [UInt8]]>([:])
        let maintenanceFailures = Mutex<[String]>([])
        runOnThreads(threads: 5) { thread in
            for sequence in 0..<30 {
                if thread == 4 {
                    do {
                        try committer.withLog { (log) throws(RaftLogError) in try maintain(log, round: sequence) }
                    } catch {
                        maintenanceFailures.withLock { $0.append("\(error)") }
                    }
                    continue
                }
                let payload: [UInt8] = [UInt8(thread), UInt8(sequence)]
                guard let range = try? committer.append({ next in [Entry(term: 1, index: next, data: payload)] })
                else { return }
                acknowledged.withLock { $0[range.lowerBound] = payload }
            }
        }
        #expect(maintenanceFailures.withLock { $0 }.isEmpty)
        simulated.crash()
        let recovered = try DurableLog.open(directory: "/data", fileSystem: simulated, configuration: tinySegmentLimits)
        #expect(recovered.firstIndex == (try recovered.snapshot().metadata.index) + 1)
        #expect(recovered.lastIndex == 120)
        let entries = try readAllEntries(recovered)
        for (index, payload) in acknowledged.withLock({ $0 }) where index >= recovered.firstIndex {
            #expect(entries[Int(index - recovered.firstIndex)].data == payload)
        }
    }

    @Test func aFailedGroupSyncFailsItsCallersAndEveryLaterOne() throws {
        let fs = SimulatedFileSystem()
        let committer = GroupCommitter(log: try DurableLog.open(directory: "/data", fileSystem: fs))
        try committer.append(storageEntries(1...2))
        fs.faultPolicy = { $0.kind == .sync ? .fail : nil }
        #expect(throws: RaftLogError.self) { try committer.append(storageEntries(3...3)) }
        fs.faultPolicy = { _ in nil }
        #expect(throws: RaftLogError.self) { try committer.append(storageEntries(3...3)) }
        let lastIndex = try committer.withLog { (log) throws(RaftLogError) in log.durableLastIndex }
        #expect(lastIndex == 2)
    }

    @Test func withLogGivesExclusiveAccessForStructuralChanges() throws {
        let fs = SimulatedFileSystem()
        let committer = GroupCommitter(
            log: try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits))
        try committer.append(storageEntries(1...10))
        try committer.withLog { (log) throws(RaftLogError) in
            try log.saveSnapshot(storageSnapshot(index: 6, term: 1))
            try log.compact(upTo: 6)
            try log.truncateSuffix(from: 9)
        }
        try committer.append(storageEntries(9...9, term: 2))
        fs.crash()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(log) == storageEntries(7...8) + storageEntries(9...9, term: 2))
    }

    /// Appends with one fsync per batch on the real disk; run with `ELASTICKV_STORAGE_BENCH=1`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ELASTICKV_STORAGE_BENCH"] != nil))
    func measureAppendAndSyncThroughputOnThisDisk() throws {
        for batchSize in [1, 16, 64] {
            let directory = try makeStorageTemporaryDirectory()
            defer { removeStorageTemporaryDirectory(directory) }
            let log = try DurableLog.open(directory: directory, fileSystem: PosixFileSystem())
            let batches = 300
            let payload = [UInt8](repeating: 0xAB, count: 128)
            let clock = ContinuousClock()
            var next: UInt64 = 1
            let elapsed = try clock.measure {
                for _ in 0..<batches {
                    let entries = (0..<batchSize).map { offset in
                        Entry(term: 1, index: next + UInt64(offset), data: payload)
                    }
                    try log.append(entries)
                    try log.sync()
                    next += UInt64(batchSize)
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let syncsPerSecond = Double(batches) / seconds
            print(
                "raft-storage bench: batch \(batchSize) x 128 B: \(Int(syncsPerSecond)) syncs/s, "
                    + "\(Int(syncsPerSecond * Double(batchSize))) entries/s")
            #expect(log.durableLastIndex == UInt64(batches * batchSize))
        }
    }

    /// Eight threads appending one 128-byte entry each through the group committer on the real disk.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ELASTICKV_STORAGE_BENCH"] != nil))
    func measureGroupCommitThroughputOnThisDisk() throws {
        let directory = try makeStorageTemporaryDirectory()
        defer { removeStorageTemporaryDirectory(directory) }
        let committer = GroupCommitter(log: try DurableLog.open(directory: directory, fileSystem: PosixFileSystem()))
        let threads = 8
        let appendsPerThread = 200
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            runOnThreads(threads: threads) { _ in
                for _ in 0..<appendsPerThread {
                    do {
                        try committer.append { next in
                            [Entry(term: 1, index: next, data: Array(repeating: 1, count: 128))]
                        }
                    } catch {
                        Issue.record("append failed: \(error)")
                    }
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let statistics = committer.statistics
        print(
            "raft-storage bench: group commit, \(threads) threads x 1 x 128 B: "
                + "\(Int(Double(statistics.appends) / seconds)) durable appends/s, \(statistics.syncs) syncs "
                + "for \(statistics.appends) appends")
        #expect(statistics.appends == threads * appendsPerThread)
    }
}

// MARK: - Helpers

/// One round of the work a driver does beside appends: read the tail, snapshot and compact now and then.
private func maintain(_ log: DurableLog, round: Int) throws(RaftLogError) {
    do {
        let low = max(log.firstIndex, log.lastIndex > 5 ? log.lastIndex - 5 : 1)
        if log.lastIndex >= low { _ = try log.entries(from: low, to: log.lastIndex + 1, maxBytes: 64) }
        _ = try log.term(at: log.lastIndex)
    } catch {
        throw .logFailed(reason: "read failed: \(error)")
    }
    let snapshotIndex = (try? log.snapshot().metadata.index) ?? 0
    // Read once: a concurrent group-commit sync may move the durable end between the two calls.
    let durable = log.durableLastIndex
    guard round % 3 == 0, durable > snapshotIndex + 6 else { return }
    try log.createSnapshot(at: durable - 2, configuration: ConfigurationState(voters: [1]), data: [])
    try log.compact(upTo: durable - 4)
}

/// Delays every fsync, so concurrent appenders pile up behind it as they would behind a real disk.
struct SlowSyncFileSystem: FileSystem {
    let base: SimulatedFileSystem
    let syncDelayMicroseconds: UInt32

    final class File: WritableFile {
        let base: any WritableFile
        let delay: UInt32
        init(base: any WritableFile, delay: UInt32) {
            self.base = base
            self.delay = delay
        }
        func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) { try base.write(bytes) }
        func sync() throws(FileSystemError) {
            usleep(delay)
            try base.sync()
        }
        func close() throws(FileSystemError) { try base.close() }
    }

    func openFile(at path: String, mode: OpenMode) throws(FileSystemError) -> any WritableFile {
        File(base: try base.openFile(at: path, mode: mode), delay: syncDelayMicroseconds)
    }
    func readFile(at path: String) throws(FileSystemError) -> [UInt8] { try base.readFile(at: path) }
    func fileExists(at path: String) -> Bool { base.fileExists(at: path) }
    func listDirectory(at path: String) throws(FileSystemError) -> [String] { try base.listDirectory(at: path) }
    func createDirectory(at path: String) throws(FileSystemError) { try base.createDirectory(at: path) }
    func rename(from source: String, to destination: String) throws(FileSystemError) {
        try base.rename(from: source, to: destination)
    }
    func removeFile(at path: String) throws(FileSystemError) { try base.removeFile(at: path) }
    func syncDirectory(at path: String) throws(FileSystemError) {
        usleep(syncDelayMicroseconds)
        try base.syncDirectory(at: path)
    }
    func truncateFile(at path: String, toSize size: Int) throws(FileSystemError) {
        try base.truncateFile(at: path, toSize: size)
    }
    func fileSize(at path: String) throws(FileSystemError) -> Int { try base.fileSize(at: path) }
    func permissions(at path: String) throws(FileSystemError) -> UInt16 { try base.permissions(at: path) }
}

/// Runs `body(thread)` on `threads` OS threads and waits for all of them.
func runOnThreads(threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for thread in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            body(thread)
            group.leave()
        }
    }
    group.wait()
}

func makeStorageTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("raft-storage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeStorageTemporaryDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
