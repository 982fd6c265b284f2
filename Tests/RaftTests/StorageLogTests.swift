import DurableIO
import TestSupport
import Testing

@testable import Raft

/// Scenario tests of the durable log: round trips through restarts, rollover, overwrite, snapshots,
/// compaction, hard state, corruption and failed fsync.
@Suite struct StorageLogTests {
    @Test func appendedEntriesSurviveARestart() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        #expect(log.firstIndex == 1 && log.lastIndex == 0)
        try log.append(storageEntries(1...5))
        try log.sync()
        #expect(log.durableLastIndex == 5)
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs)
        #expect(try readAllEntries(reopened) == storageEntries(1...5))
        #expect(try reopened.term(at: 0) == 0)
        #expect(try reopened.term(at: 5) == 1)
    }

    @Test func unsyncedAppendsAreLostOnCrashButReadableBefore() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        try log.append(storageEntries(1...3))
        try log.sync()
        try log.append(storageEntries(4...6))
        #expect(try log.entries(from: 4, to: 7, maxBytes: .max) == storageEntries(4...6))
        #expect(log.unsyncedEntryCount == 3)
        fs.crash()
        #expect(try readAllEntries(DurableLog.open(directory: "/data", fileSystem: fs)) == storageEntries(1...3))
    }

    @Test func entriesRollOverAcrossSegmentsAndReadBackFromFiles() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        for start in stride(from: UInt64(1), through: 40, by: 4) {
            try log.append(storageEntries(start...(start + 3)))
            try log.sync()
        }
        let names = try fs.listDirectory(at: "/data/log")
        #expect(names.count > 5)
        #expect(names.first == "00000000000000000001.seg")
        for name in names { #expect(try fs.fileSize(at: "/data/log/" + name) <= tinySegmentLimits.maxSegmentBytes) }
        #expect(try readAllEntries(log) == storageEntries(1...40))
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == storageEntries(1...40))
        #expect(try reopened.entries(from: 3, to: 9, maxBytes: 0) == storageEntries(3...3))
        #expect(try reopened.entries(from: 3, to: 9, maxBytes: 2 * storageEntryDataSize) == storageEntries(3...4))
    }

    @Test func readsOutsideTheLogReportCompactedOrUnavailable() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        try log.append(storageEntries(1...3))
        try log.sync()
        #expect(throws: RaftStorageError.unavailable) { try log.entries(from: 1, to: 5, maxBytes: .max) }
        #expect(throws: RaftStorageError.unavailable) { try log.term(at: 4) }
        #expect(throws: RaftStorageError.compacted) { try log.entries(from: 0, to: 2, maxBytes: .max) }
        #expect(try log.entries(from: 2, to: 2, maxBytes: .max).isEmpty)
    }

    @Test func appendsThatDoNotContinueTheLogAreRejectedWithoutChange() throws {
        let log = try DurableLog.open(
            directory: "/data", fileSystem: SimulatedFileSystem(), configuration: tinySegmentLimits)
        try log.append(storageEntries(1...2, term: 2))
        #expect(throws: RaftLogError.nonContiguousAppend(expectedIndex: 3, actualIndex: 4)) {
            try log.append(storageEntries(4...5))
        }
        #expect(throws: RaftLogError.termRegression(index: 3, term: 1, previousTerm: 2)) {
            try log.append(storageEntries(3...3, term: 1))
        }
        let huge = Entry(term: 2, index: 3, data: Array(repeating: 1, count: tinySegmentLimits.maxRecordBytes))
        #expect(
            throws: RaftLogError.entryTooLarge(
                index: 3, bytes: huge.data.count + 25, limit: tinySegmentLimits.maxRecordBytes)
        ) {
            try log.append([huge])
        }
        #expect(throws: RaftLogError.batchTooLarge(entries: 65, limit: 64)) {
            try log.append(storageEntries(3...67, term: 2))
        }
        #expect(log.lastIndex == 2)
    }

    @Test func unsyncedBytesAreBoundedUntilTheNextSync() throws {
        let limits = RaftLogConfiguration(
            maxSegmentBytes: 4096, maxRecordBytes: 100, maxUnsyncedBytes: 20 + 3 * 41)
        let log = try DurableLog.open(directory: "/data", fileSystem: SimulatedFileSystem(), configuration: limits)
        try log.append(storageEntries(1...3))
        #expect(throws: RaftLogError.unsyncedBytesLimitReached(bytes: 20 + 4 * 41, limit: 20 + 3 * 41)) {
            try log.append(storageEntries(4...4))
        }
        try log.sync()
        try log.append(storageEntries(4...6))
        #expect(log.lastIndex == 6)
    }

    @Test func overwritingASuffixReplacesItDurably() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...20))
        try log.sync()
        try log.truncateSuffix(from: 7)
        #expect(log.lastIndex == 6)
        try log.append(storageEntries(7...9, term: 2))
        try log.sync()
        let expected = storageEntries(1...6) + storageEntries(7...9, term: 2)
        #expect(try readAllEntries(log) == expected)
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == expected)
        try reopened.truncateSuffix(from: 1)
        #expect(reopened.lastIndex == 0)
        try reopened.append(storageEntries(1...2, term: 3))
        try reopened.sync()
        fs.crash()
        #expect(
            try readAllEntries(DurableLog.open(directory: "/data", fileSystem: fs)) == storageEntries(1...2, term: 3))
    }

    @Test func truncatingCommittedEntriesOrOutsideTheLogIsRefused() throws {
        let log = try DurableLog.open(directory: "/data", fileSystem: SimulatedFileSystem())
        try log.append(storageEntries(1...4))
        try log.sync()
        #expect(throws: RaftLogError.indexOutOfRange(index: 6, firstIndex: 1, lastIndex: 4)) {
            try log.truncateSuffix(from: 6)
        }
        try log.truncateSuffix(from: 5)
        #expect(log.lastIndex == 4)
    }

    @Test func compactionAfterASnapshotMovesTheFirstIndexAndDeletesOldSegments() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...30))
        try log.sync()
        #expect(throws: RaftLogError.compactionBeyondSnapshot(requested: 10, snapshotIndex: 0)) {
            try log.compact(upTo: 10)
        }
        let snapshot = storageSnapshot(index: 20, term: 1)
        try log.saveSnapshot(snapshot)
        let segmentsBefore = try fs.listDirectory(at: "/data/log").count
        try log.compact(upTo: 20)
        #expect(log.firstIndex == 21)
        #expect(try log.term(at: 20) == 1)
        #expect(throws: RaftStorageError.compacted) { try log.term(at: 19) }
        #expect(try fs.listDirectory(at: "/data/log").count < segmentsBefore)
        #expect(try readAllEntries(log) == storageEntries(21...30))
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(reopened.firstIndex == 21)
        #expect(try readAllEntries(reopened) == storageEntries(21...30))
        #expect(try reopened.snapshot() == snapshot)
        #expect(try reopened.initialState().1 == snapshot.metadata.configuration)
    }

    @Test func aSnapshotTheLogDoesNotContinueReplacesTheLog() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...10))
        try log.sync()
        try log.saveSnapshot(storageSnapshot(index: 8, term: 5))
        #expect(log.firstIndex == 9 && log.lastIndex == 8)
        #expect(try fs.listDirectory(at: "/data/log").isEmpty)
        try log.append(storageEntries(9...11, term: 5))
        try log.sync()
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == storageEntries(9...11, term: 5))
        #expect(try reopened.term(at: 8) == 5)
        #expect(throws: RaftLogError.snapshotOutOfDate(index: 8, newestIndex: 8)) {
            try reopened.saveSnapshot(storageSnapshot(index: 8, term: 5))
        }
    }

    @Test func onlyTheRetainedNumberOfSnapshotsIsKept() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...30))
        try log.sync()
        for index in [5, 10, 15, 20] as [UInt64] { try log.saveSnapshot(storageSnapshot(index: index, term: 1)) }
        #expect(
            try fs.listDirectory(at: "/data/snap") == [
                SnapshotCodec.fileName(index: 15, term: 1), SnapshotCodec.fileName(index: 20, term: 1),
            ])
    }

    @Test func hardStateSurvivesRestartsAndOnlyMovesForward() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        #expect(try log.initialState().0 == HardState())
        try log.append(storageEntries(1...2))
        try log.sync()
        try log.setHardState(HardState(term: 3, vote: 7, commit: 0))
        try log.setHardState(HardState(term: 4, vote: 0, commit: 2))
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs)
        #expect(try reopened.initialState().0 == HardState(term: 4, vote: 0, commit: 2))
        #expect(!fs.fileExists(at: "/data/hardstate.tmp"))
    }

    @Test func aCommitIndexPastTheRecoveredLogIsATypedError() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        try log.append(storageEntries(1...3))
        try log.sync()
        try log.setHardState(HardState(term: 1, vote: 0, commit: 5))
        #expect(throws: RaftLogError.commitBeyondLog(commit: 5, lastIndex: 3)) {
            try DurableLog.open(directory: "/data", fileSystem: fs)
        }
    }

    @Test func aDamagedHardStateFileIsATypedError() throws {
        let fs = SimulatedFileSystem()
        try DurableLog.open(directory: "/data", fileSystem: fs).setHardState(HardState(term: 2, vote: 1, commit: 0))
        try flipStoredByte(in: fs, path: "/data/hardstate", at: 10)
        #expect(throws: RaftLogError.self) { try DurableLog.open(directory: "/data", fileSystem: fs) }
        do {
            _ = try DurableLog.open(directory: "/data", fileSystem: fs)
        } catch {
            guard case .corruptHardState(let file, _) = error else { Issue.record("got \(error)"); return }
            #expect(file == "/data/hardstate")
        }
    }

    @Test func corruptionInANonLastSegmentIsATypedErrorNamingFileAndOffset() throws {
        let fs = try filledStorageDisk(entries: 1...20)
        let offset = SegmentHeaderCodec.size + LogRecordCodec.encodedSize(of: storageEntry(1)) + 30
        try flipStoredByte(in: fs, path: "/data/log/00000000000000000001.seg", at: offset)
        expectCorruptLog(fs, file: "/data/log/00000000000000000001.seg", offset: offset - 30)
    }

    @Test func aBadRecordFollowedByValidOnesInTheLastSegmentIsCorruption() throws {
        let fs = try filledStorageDisk(entries: 1...21)
        let last = try fs.listDirectory(at: "/data/log").last!
        let path = "/data/log/" + last
        #expect(
            try fs.fileSize(at: path) > SegmentHeaderCodec.size + 2 * LogRecordCodec.encodedSize(of: storageEntry(1)))
        try flipStoredByte(in: fs, path: path, at: SegmentHeaderCodec.size + 12)
        expectCorruptLog(fs, file: path, offset: SegmentHeaderCodec.size)
    }

    @Test func aBadLastRecordIsATornTailAndIsTruncated() throws {
        let fs = try filledStorageDisk(entries: 1...20)
        let path = "/data/log/" + (try fs.listDirectory(at: "/data/log").last!)
        let size = try fs.fileSize(at: path)
        try flipStoredByte(in: fs, path: path, at: size - 3)
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(log) == storageEntries(1...19))
        #expect(try fs.fileSize(at: path) == size - LogRecordCodec.encodedSize(of: storageEntry(20)))
        try log.append(storageEntries(20...22))
        try log.sync()
        fs.crash()
        #expect(
            try readAllEntries(DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits))
                == storageEntries(1...22))
    }

    @Test func aMissingMiddleSegmentIsCorruption() throws {
        let fs = try filledStorageDisk(entries: 1...20)
        let names = try fs.listDirectory(at: "/data/log")
        try fs.removeFile(at: "/data/log/" + names[1])
        try fs.syncDirectory(at: "/data/log")
        expectCorruptLog(fs, file: "/data/log/" + names[2], offset: 0)
    }

    @Test func aCorruptNewestSnapshotIsIgnoredAndRemoved() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...10))
        try log.sync()
        try log.saveSnapshot(storageSnapshot(index: 4, term: 1))
        try log.saveSnapshot(storageSnapshot(index: 6, term: 1))
        let newest = "/data/snap/" + SnapshotCodec.fileName(index: 6, term: 1)
        try flipStoredByte(in: fs, path: newest, at: 50)
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try reopened.snapshot() == storageSnapshot(index: 4, term: 1))
        #expect(!fs.fileExists(at: newest))
        #expect(try readAllEntries(reopened) == storageEntries(5...10))
    }

    @Test func aSnapshotFromANewerFormatVersionIsRefusedNotRemoved() throws {
        let fs = SimulatedFileSystem()
        try DurableLog.open(directory: "/data", fileSystem: fs).saveSnapshot(storageSnapshot(index: 3, term: 1))
        let path = "/data/snap/" + SnapshotCodec.fileName(index: 3, term: 1)
        var bytes = try fs.readFile(at: path)
        bytes[5] = 7
        let file = try fs.openFile(at: path, mode: .truncate)
        try file.write(resealedWithChecksum(bytes))
        try file.sync()
        #expect(throws: RaftLogError.unsupportedFormatVersion(file: path, version: 7)) {
            try DurableLog.open(directory: "/data", fileSystem: fs)
        }
        #expect(fs.fileExists(at: path))
    }

    @Test func aFailedFsyncFailsTheAppendAndTheLogUntilReopened() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        try log.append(storageEntries(1...3))
        try log.sync()
        let firstFailing = fs.operationCount
        fs.faultPolicy = { $0.kind == .sync && $0.number >= firstFailing ? .fail : nil }
        try log.append(storageEntries(4...5))
        #expect(throws: RaftLogError.self) { try log.sync() }
        fs.faultPolicy = { _ in nil }
        #expect(log.isFailed)
        let attempts: [() throws -> Void] = [
            { try log.append(storageEntries(6...6)) }, { try log.sync() }, { try log.truncateSuffix(from: 4) },
            { try log.setHardState(HardState(term: 1)) }, { try log.saveSnapshot(storageSnapshot(index: 2, term: 1)) },
        ]
        for attempt in attempts {
            #expect(throws: RaftLogError.self) { try attempt() }
        }
        fs.crash()
        let recovered = try readAllEntries(DurableLog.open(directory: "/data", fileSystem: fs))
        #expect(recovered == storageEntries(1...3))
    }

    @Test func anEntryLargerThanASegmentGetsASegmentOfItsOwn() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        let big = Entry(term: 1, index: 2, data: Array(repeating: 3, count: 90))
        let configuration = RaftLogConfiguration(
            maxSegmentBytes: 100, maxRecordBytes: 120, maxCachedEntries: 0, maxCachedBytes: 0)
        try log.append([storageEntry(1), big, storageEntry(3)])
        try log.sync()
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: configuration)
        #expect(try readAllEntries(reopened) == [storageEntry(1), big, storageEntry(3)])
        #expect(try fs.listDirectory(at: "/data/log").count == 3)
    }

    @Test func aSegmentFromANewerFormatVersionIsRefusedNotRemoved() throws {
        let fs = try filledStorageDisk(entries: 1...5)
        let path = "/data/log/" + (try fs.listDirectory(at: "/data/log").last!)
        var bytes = try fs.readFile(at: path)
        bytes[5] = 2
        bytes.replaceSubrange(16..<20, with: bigEndianBytes(CRC32C.checksum(Array(bytes[0..<16]))))
        let file = try fs.openFile(at: path, mode: .truncate)
        try file.write(bytes)
        try file.sync()
        #expect(throws: RaftLogError.unsupportedFormatVersion(file: path, version: 2)) {
            try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        }
        #expect(fs.fileExists(at: path))
    }

    @Test func aLastSegmentHoldingOnlyItsHeaderIsReusedForAppends() throws {
        let fs = try filledStorageDisk(entries: 1...3)
        let file = try fs.openFile(at: "/data/log/00000000000000000004.seg", mode: .truncate)
        try file.write(SegmentHeaderCodec.encode(firstIndex: 4))
        try file.sync()
        try fs.syncDirectory(at: "/data/log")
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(log.lastIndex == 3)
        try log.append(storageEntries(4...5))
        try log.sync()
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == storageEntries(1...5))
        #expect(try fs.listDirectory(at: "/data/log").count == 2)
    }

    @Test func bootstrapRecordsTheFoundingMembershipOnce() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs)
        let founders = ConfigurationState(voters: [11, 12, 13])
        try log.bootstrap(configuration: founders)
        #expect(throws: RaftLogError.alreadyInitialized) { try log.bootstrap(configuration: founders) }
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs)
        #expect(try reopened.initialState().1 == founders)
        #expect(try reopened.snapshot().metadata == SnapshotMetadata(index: 0, term: 0, configuration: founders))
        #expect(reopened.firstIndex == 1 && reopened.lastIndex == 0)
        try reopened.append(storageEntries(1...4))
        try reopened.sync()
        try reopened.createSnapshot(at: 3, configuration: founders, data: [1, 2])
        #expect(try reopened.snapshot().metadata == SnapshotMetadata(index: 3, term: 1, configuration: founders))
        #expect(throws: RaftLogError.indexOutOfRange(index: 9, firstIndex: 1, lastIndex: 4)) {
            try reopened.createSnapshot(at: 9, configuration: founders, data: [])
        }
    }

    @Test func persistAppliesAReadyBatchAndReplacesConflictingEntries() throws {
        let fs = SimulatedFileSystem()
        let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        try log.persist(
            hardState: HardState(term: 1, vote: 2, commit: 0), entries: storageEntries(1...6), snapshot: nil)
        try log.persist(
            hardState: HardState(term: 2, vote: 0, commit: 3), entries: storageEntries(5...7, term: 2), snapshot: nil)
        #expect(try readAllEntries(log) == storageEntries(1...4) + storageEntries(5...7, term: 2))
        try log.persist(
            hardState: HardState(term: 3, vote: 0, commit: 9), entries: [], snapshot: storageSnapshot(index: 9, term: 3)
        )
        #expect(log.firstIndex == 10 && log.lastIndex == 9)
        try log.persist(
            hardState: nil, entries: storageEntries(10...11, term: 3), snapshot: storageSnapshot(index: 10, term: 3))
        fs.crash()
        let reopened = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == storageEntries(11...11, term: 3))
        #expect(try reopened.initialState().0 == HardState(term: 3, vote: 0, commit: 9))
    }

    @Test func overwritingTheSuffixOfTheOpenSegmentOnThePosixFileSystem() throws {
        let directory = try makeStorageTemporaryDirectory()
        defer { removeStorageTemporaryDirectory(directory) }
        let log = try DurableLog.open(directory: directory, fileSystem: PosixFileSystem())
        try log.append(storageEntries(1...10))
        try log.sync()
        try log.truncateSuffix(from: 6)
        try log.append(storageEntries(6...8, term: 2))
        try log.sync()
        try log.close()
        let reopened = try DurableLog.open(directory: directory, fileSystem: PosixFileSystem())
        #expect(try readAllEntries(reopened) == storageEntries(1...5) + storageEntries(6...8, term: 2))
    }

    @Test func roundTripOnThePosixFileSystem() throws {
        let directory = try makeStorageTemporaryDirectory()
        defer { removeStorageTemporaryDirectory(directory) }
        let fs = PosixFileSystem()
        let log = try DurableLog.open(directory: directory, fileSystem: fs, configuration: tinySegmentLimits)
        try log.append(storageEntries(1...25))
        try log.sync()
        try log.setHardState(HardState(term: 1, vote: 3, commit: 10))
        try log.saveSnapshot(storageSnapshot(index: 10, term: 1))
        try log.compact(upTo: 10)
        try log.truncateSuffix(from: 20)
        try log.append(storageEntries(20...22, term: 2))
        try log.sync()
        try log.close()
        let reopened = try DurableLog.open(directory: directory, fileSystem: fs, configuration: tinySegmentLimits)
        #expect(try readAllEntries(reopened) == storageEntries(11...19) + storageEntries(20...22, term: 2))
        #expect(try reopened.initialState().0 == HardState(term: 1, vote: 3, commit: 10))
        #expect(try reopened.snapshot() == storageSnapshot(index: 10, term: 1))
    }
}

// MARK: - Shared helpers for the storage tests

/// Segments of a few records each, and a cache of two entries, so tests exercise rollover and file reads.
let tinySegmentLimits = RaftLogConfiguration(
    maxSegmentBytes: 160, maxRecordBytes: 120, maxEntriesPerAppend: 64, maxCachedEntries: 2, maxCachedBytes: 400)

let storageEntryDataSize = 16

/// A deterministic entry whose data encodes its index and term.
func storageEntry(_ index: UInt64, term: UInt64 = 1) -> Entry {
    var random = SplitMix64(seed: index &* 31 &+ term)
    let kind: EntryKind = index % 7 == 0 ? .configurationChange : .normal
    return Entry(
        term: term, index: index, kind: kind,
        data: (0..<storageEntryDataSize).map { _ in UInt8(truncatingIfNeeded: random.next()) })
}

func storageEntries(_ indexes: ClosedRange<UInt64>, term: UInt64 = 1) -> [Entry] {
    indexes.map { storageEntry($0, term: term) }
}

func storageSnapshot(index: UInt64, term: UInt64) -> Snapshot {
    Snapshot(
        metadata: SnapshotMetadata(
            index: index, term: term, configuration: ConfigurationState(voters: [1, 2, 3], learners: [9])),
        data: Array(repeating: UInt8(truncatingIfNeeded: index), count: 64))
}

/// Every entry the log serves, first to last.
func readAllEntries(_ log: DurableLog) throws -> [Entry] {
    try log.entries(from: log.firstIndex, to: log.lastIndex + 1, maxBytes: .max)
}

/// A simulated disk holding a synced log of `entries` in tiny segments, one sync per entry.
func filledStorageDisk(entries: ClosedRange<UInt64>) throws -> SimulatedFileSystem {
    let fs = SimulatedFileSystem()
    let log = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
    for index in entries {
        try log.append([storageEntry(index)])
        try log.sync()
    }
    return fs
}

/// Rewrites a file durably with one byte changed.
func flipStoredByte(in fs: SimulatedFileSystem, path: String, at offset: Int) throws {
    var bytes = try fs.readFile(at: path)
    bytes[offset] ^= 0x40
    let file = try fs.openFile(at: path, mode: .truncate)
    try file.write(bytes)
    try file.sync()
    try file.close()
}

func expectCorruptLog(
    _ fs: SimulatedFileSystem,
    file expectedFile: String,
    offset expectedOffset: Int,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try DurableLog.open(directory: "/data", fileSystem: fs, configuration: tinySegmentLimits)
        Issue.record("opening a corrupt log succeeded", sourceLocation: sourceLocation)
    } catch {
        guard case .corruptLog(let file, let offset, _) = error else {
            Issue.record("expected corruptLog, got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(file == expectedFile, sourceLocation: sourceLocation)
        #expect(offset == expectedOffset, sourceLocation: sourceLocation)
    }
}
