import DurableIO
import Synchronization
import TestSupport
import Testing

@testable import Raft

/// Crash and fault injection at every mutating file operation of each storage protocol.
///
/// Each scenario is a list of steps. A run injects one fault at operation `n` (crash, torn write then
/// crash, or a failed operation), records which steps returned, then simulates power loss, reopens and
/// checks what survived against what was acknowledged. `n` ranges over every operation of a fault-free run.
@Suite struct StorageCrashTests {
    /// How an injected fault behaves.
    enum Injection: CaseIterable {
        case crash, crashTearingUnsyncedWrites, tornWriteThenCrash, failOperation
        /// A crash on a disk that makes every create, rename and remove durable at once, in program order,
        /// as a journaling file system may do without being asked.
        case crashWithEagerMetadata
    }

    @Test(arguments: Injection.allCases) func appendAndSyncKeepEveryAcknowledgedEntry(injection: Injection) throws {
        let batches: [ClosedRange<UInt64>] = [1...2, 3...7, 8...8, 9...14, 15...16]
        try exhaustively(injection) { log, acknowledged in
            for batch in batches {
                try log.append(storageEntries(batch))
                try log.sync()
                acknowledged += 1
            }
        } check: { log, acknowledged in
            let entries = try readAllEntries(log)
            #expect(log.firstIndex == 1)
            #expect(entries == storageEntries(1...max(1, log.lastIndex)).prefix(entries.count).map { $0 })
            let required = acknowledged == 0 ? 0 : batches[acknowledged - 1].upperBound
            #expect(log.lastIndex >= required)
        }
    }

    @Test(arguments: Injection.allCases) func suffixOverwriteIsAtomicPerStep(injection: Injection) throws {
        let old = storageEntries(1...10)
        let new = storageEntries(1...5) + storageEntries(6...12, term: 2)
        try exhaustively(injection) { log, acknowledged in
            try log.append(old)
            try log.sync()
            acknowledged = 1
            try log.truncateSuffix(from: 6)
            acknowledged = 2
            try log.append(Array(new[5...]))
            try log.sync()
            acknowledged = 3
        } check: { log, acknowledged in
            let entries = try readAllEntries(log)
            #expect(isEntryPrefix(entries, of: old) || isEntryPrefix(entries, of: new))
            if acknowledged >= 1 { #expect(entries.count >= 5) }
            if acknowledged == 1 && !isEntryPrefix(entries, of: new) { #expect(isEntryPrefix(entries, of: old)) }
            if acknowledged >= 2 { #expect(isEntryPrefix(entries, of: new)) }
            if acknowledged == 3 { #expect(entries == new) }
        }
    }

    @Test(arguments: Injection.allCases) func snapshotAndCompactionNeverLoseCoveredEntries(injection: Injection) throws
    {
        let snapshot = storageSnapshot(index: 8, term: 1)
        try exhaustively(injection) { log, acknowledged in
            try log.append(storageEntries(1...12))
            try log.sync()
            acknowledged = 1
            try log.saveSnapshot(snapshot)
            acknowledged = 2
            try log.compact(upTo: 8)
            acknowledged = 3
            try log.append(storageEntries(13...15))
            try log.sync()
            acknowledged = 4
        } check: { log, acknowledged in
            let saved = try log.snapshot()
            #expect(saved == Snapshot() || saved == snapshot, "a snapshot is whole or absent")
            if acknowledged >= 2 { #expect(saved == snapshot) }
            #expect(log.firstIndex == saved.metadata.index + 1, "entries are kept until a durable snapshot covers them")
            let entries = try readAllEntries(log)
            #expect(entries == Array(storageEntries(1...15)[Int(log.firstIndex - 1)...].prefix(entries.count)))
            if acknowledged >= 1 { #expect(log.lastIndex >= 12) }
            if acknowledged == 4 { #expect(log.lastIndex == 15) }
        }
    }

    @Test(arguments: Injection.allCases) func installedSnapshotReplacesTheLogAtomically(injection: Injection) throws {
        let snapshot = storageSnapshot(index: 20, term: 2)
        try exhaustively(injection) { log, acknowledged in
            try log.append(storageEntries(1...12))
            try log.sync()
            acknowledged = 1
            try log.saveSnapshot(snapshot)
            acknowledged = 2
            try log.append(storageEntries(21...23, term: 2))
            try log.sync()
            acknowledged = 3
        } check: { log, acknowledged in
            let saved = try log.snapshot()
            let entries = try readAllEntries(log)
            if saved == snapshot {
                #expect(log.firstIndex == 21)
                #expect(isEntryPrefix(entries, of: storageEntries(21...23, term: 2)))
            } else {
                #expect(saved == Snapshot())
                #expect(acknowledged < 2)
                #expect(isEntryPrefix(entries, of: storageEntries(1...12)))
                if acknowledged == 1 { #expect(entries.count == 12) }
            }
            if acknowledged == 3 { #expect(log.lastIndex == 23) }
        }
    }

    @Test(arguments: Injection.allCases) func hardStateIsOldOrNewNeverTorn(injection: Injection) throws {
        let states = [
            HardState(term: 1, vote: 7, commit: 0), HardState(term: 2, vote: 0, commit: 3),
            HardState(term: 3, vote: 9, commit: 5),
        ]
        try exhaustively(injection) { log, acknowledged in
            try log.append(storageEntries(1...5))
            try log.sync()
            for state in states {
                try log.setHardState(state)
                acknowledged += 1
            }
        } check: { log, acknowledged in
            let recovered = try log.initialState().0
            let position = ([HardState()] + states).firstIndex(of: recovered)
            #expect(position != nil, "recovered hard state \(recovered) was never written")
            #expect((position ?? 0) >= acknowledged)
        }
    }

    @Test(arguments: Injection.allCases) func persistedCommitIndexNeverPassesTheDurableLog(injection: Injection) throws
    {
        let batches: [(HardState, [Entry], Snapshot?)] = [
            (HardState(term: 1, vote: 1, commit: 0), storageEntries(1...4), nil),
            (HardState(term: 1, vote: 1, commit: 4), storageEntries(5...8), nil),
            (HardState(term: 2, vote: 3, commit: 6), storageEntries(7...9, term: 2), nil),
            (HardState(term: 3, vote: 0, commit: 14), [], storageSnapshot(index: 14, term: 3)),
            (HardState(term: 3, vote: 0, commit: 16), storageEntries(15...16, term: 3), nil),
        ]
        try exhaustively(injection) { log, acknowledged in
            for (hardState, entries, snapshot) in batches {
                try log.persist(hardState: hardState, entries: entries, snapshot: snapshot)
                acknowledged += 1
            }
        } check: { log, acknowledged in
            let (hardState, _) = try log.initialState()
            #expect(hardState.commit <= log.lastIndex, "commit \(hardState.commit) past last index \(log.lastIndex)")
            // Term and vote of the last acknowledged batch are durable; its commit index may lag (it is
            // written only with a term or vote change), never lead.
            if acknowledged == batches.count {
                let last = batches[acknowledged - 1].0
                #expect(hardState.term == last.term && hardState.vote == last.vote && hardState.commit <= last.commit)
            }
            #expect(batches.prefix(acknowledged).allSatisfy { $0.0.term <= hardState.term })
            if acknowledged >= 4 { #expect(try log.snapshot() == storageSnapshot(index: 14, term: 3)) }
            if acknowledged == batches.count { #expect(log.lastIndex == 16) }
        }
    }

    @Test func tornUnsyncedTailsAreTruncatedToARecordBoundary() throws {
        for seed in UInt64(0)..<200 {
            let fs = SimulatedFileSystem(seed: seed)
            let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
            let acknowledged = 1 + seed % 9
            try log.append(storageEntries(1...acknowledged))
            try log.sync()
            let unsynced = (acknowledged + 1)...(acknowledged + 1 + seed % 5)
            try log.append(storageEntries(unsynced))
            let syncsBefore = fs.operationCount
            fs.faultPolicy = { $0.kind == .sync && $0.number >= syncsBefore ? .crash : nil }
            #expect(throws: RaftLogError.self) { try log.sync() }
            fs.faultPolicy = { _ in nil }
            fs.crash(tearUnsyncedWrites: true)
            let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
            let entries = try readAllEntries(reopened)
            #expect(entries.count >= Int(acknowledged), "seed \(seed)")
            #expect(isEntryPrefix(entries, of: storageEntries(1...unsynced.upperBound)), "seed \(seed)")
            try expectSegmentsEndOnRecordBoundaries(fs, log: reopened)
            try reopened.append(storageEntries((reopened.lastIndex + 1)...30))
            try reopened.sync()
            fs.crash(tearUnsyncedWrites: true)
            #expect(
                try readAllEntries(
                    DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits))
                    == storageEntries(1...30))
        }
    }

    @Test func recoveryItselfSurvivesACrashAtEveryOperation() throws {
        for seed in UInt64(0)..<12 {
            let probe = try makeTornDisk(seed: seed)
            let before = probe.operationCount
            _ = try DurableLog.open(directory: "/data", fileSystem: probe, configuration: tinySegmentLimits)
            let total = probe.operationCount - before
            for operation in 0..<total {
                let fs = try makeTornDisk(seed: seed)
                let target = fs.operationCount + operation
                fs.faultPolicy = { $0.number == target ? .crash : nil }
                #expect(throws: RaftLogError.self) {
                    try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
                }
                fs.faultPolicy = { _ in nil }
                fs.crash(tearUnsyncedWrites: true)
                let entries = try readAllEntries(
                    DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits))
                #expect(entries.count >= 5, "seed \(seed) operation \(operation)")
                #expect(isEntryPrefix(entries, of: storageEntries(1...12)), "seed \(seed) operation \(operation)")
            }
        }
    }

    @Test func concurrentGroupCommitKeepsEveryAcknowledgedEntryAcrossACrash() throws {
        for crashAt in stride(from: 6, to: 160, by: 11) {
            let fs = SimulatedFileSystem(seed: UInt64(crashAt))
            let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
            let committer = GroupCommitter(log: log, maxUnsyncedEntries: 8)
            fs.faultPolicy = { $0.number == crashAt ? .crash : nil }
            let acknowledged = Mutex<[UInt64: [UInt8]]>([:])
            runOnThreads(threads: 4) { thread in
                for sequence in 0..<10 {
                    let payload: [UInt8] = [UInt8(thread), UInt8(sequence)]
                    guard let range = try? committer.append({ next in [Entry(term: 1, index: next, data: payload)] })
                    else { return }
                    acknowledged.withLock { $0[range.lowerBound] = payload }
                }
            }
            fs.faultPolicy = { _ in nil }
            fs.crash(tearUnsyncedWrites: true)
            let recovered = try readAllEntries(
                DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits))
            for (index, payload) in acknowledged.withLock({ $0 }) {
                #expect(index <= UInt64(recovered.count), "acknowledged entry \(index) lost (crash at \(crashAt))")
                if index <= UInt64(recovered.count) { #expect(recovered[Int(index - 1)].data == payload) }
            }
        }
    }
}

// MARK: - Harness

extension StorageCrashTests {
    typealias Scenario = (DurableLog, inout Int) throws -> Void
    typealias Check = (DurableLog, Int) throws -> Void

    /// Runs `scenario` once without faults to count its operations, then once per operation with `injection`
    /// at that operation, recovering and checking after each.
    func exhaustively(_ injection: Injection, scenario: Scenario, check: Check) throws {
        let total = try run(injection, at: nil, scenario: scenario, check: check)
        #expect(total > 10)
        for operation in 0..<total { _ = try run(injection, at: operation, scenario: scenario, check: check) }
    }

    /// One run; returns the number of mutating operations the scenario performed.
    private func run(_ injection: Injection, at target: Int?, scenario: Scenario, check: Check) throws -> Int {
        let fs = SimulatedFileSystem(seed: UInt64(target ?? 0))
        let fault: SimulatedFileSystem.Fault
        switch injection {
        case .crash, .crashTearingUnsyncedWrites, .crashWithEagerMetadata: fault = .crash
        case .tornWriteThenCrash: fault = .tornWriteThenCrash
        case .failOperation: fault = .fail
        }
        fs.faultPolicy = { $0.number == target ? fault : nil }
        let disk: any FileSystem = injection == .crashWithEagerMetadata ? EagerMetadataFileSystem(base: fs) : fs
        var acknowledged = 0
        var failed = false
        do {
            let log = try DurableLog.open(directory: "/data", fileSystem: disk, configuration: tinySegmentLimits)
            do {
                try scenario(log, &acknowledged)
            } catch {
                failed = true
                if injection == .failOperation { expectRefusesChanges(log) }
            }
        } catch {
            failed = true
        }
        #expect(
            failed == (target != nil && fs.operationLog.contains { $0.number == target }), "operation \(target ?? -1)")
        let performed = fs.operationCount
        fs.faultPolicy = { _ in nil }
        fs.crash(tearUnsyncedWrites: injection != .crash)
        let recovered = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try check(recovered, acknowledged)
        #expect(try fs.listDirectory(at: "/data/snap").allSatisfy { !$0.hasSuffix(".tmp") })
        return performed
    }

    /// After a failed operation the log must refuse every change.
    private func expectRefusesChanges(_ log: DurableLog) {
        #expect(log.isFailed, "the log still accepts changes after a failed operation")
        #expect(throws: RaftLogError.self) { try log.append([storageEntry(log.lastIndex + 1, term: 9)]) }
        #expect(throws: RaftLogError.self) { try log.sync() }
    }
}

func isEntryPrefix(_ entries: [Entry], of expected: [Entry]) -> Bool {
    entries.count <= expected.count && Array(expected.prefix(entries.count)) == entries
}

/// Every segment file is exactly its header plus whole records.
func expectSegmentsEndOnRecordBoundaries(_ fs: SimulatedFileSystem, log: DurableLog) throws {
    for segment in log.segments {
        let size = try fs.fileSize(at: "/data/log/" + segment.fileName)
        #expect(size == segment.byteCount)
        let records = segment.terms.count
        #expect(size == SegmentHeaderCodec.size + records * LogRecordCodec.encodedSize(of: storageEntry(1)))
    }
}

/// A disk with entries 1...5 synced and 6...12 written but torn by a crash before their fsync.
func makeTornDisk(seed: UInt64) throws -> SimulatedFileSystem {
    let fs = SimulatedFileSystem(seed: seed)
    let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
    try log.append(storageEntries(1...5))
    try log.sync()
    try log.append(storageEntries(6...12))
    let syncsFrom = fs.operationCount
    fs.faultPolicy = { $0.kind == .sync && $0.number >= syncsFrom + 1 ? .crash : nil }
    _ = try? log.sync()
    fs.faultPolicy = { _ in nil }
    fs.crash(tearUnsyncedWrites: true)
    return fs
}

/// Makes every create, rename and remove durable immediately after it, in program order.
///
/// The simulated disk keeps such changes volatile until the directory is synced; a journaling file system
/// may persist them earlier. Crashing on this disk checks that no ordering relies on them staying volatile
/// (for example, that a new segment is created only after the previous one is fsynced).
struct EagerMetadataFileSystem: FileSystem {
    let base: SimulatedFileSystem

    func openFile(at path: String, mode: OpenMode) throws(FileSystemError) -> any WritableFile {
        let existed = base.fileExists(at: path)
        let file = try base.openFile(at: path, mode: mode)
        if !existed { try base.syncDirectory(at: PosixFileSystem.parentDirectory(of: path)) }
        return file
    }
    func readFile(at path: String) throws(FileSystemError) -> [UInt8] { try base.readFile(at: path) }
    func fileExists(at path: String) -> Bool { base.fileExists(at: path) }
    func listDirectory(at path: String) throws(FileSystemError) -> [String] { try base.listDirectory(at: path) }
    func createDirectory(at path: String) throws(FileSystemError) { try base.createDirectory(at: path) }
    func rename(from source: String, to destination: String) throws(FileSystemError) {
        try base.rename(from: source, to: destination)
        try base.syncDirectory(at: PosixFileSystem.parentDirectory(of: destination))
    }
    func removeFile(at path: String) throws(FileSystemError) {
        try base.removeFile(at: path)
        try base.syncDirectory(at: PosixFileSystem.parentDirectory(of: path))
    }
    func syncDirectory(at path: String) throws(FileSystemError) { try base.syncDirectory(at: path) }
    func truncateFile(at path: String, toSize size: Int) throws(FileSystemError) {
        try base.truncateFile(at: path, toSize: size)
    }
    func fileSize(at path: String) throws(FileSystemError) -> Int { try base.fileSize(at: path) }
    func permissions(at path: String) throws(FileSystemError) -> UInt16 { try base.permissions(at: path) }
}
