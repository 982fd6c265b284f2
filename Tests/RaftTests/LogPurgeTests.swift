import DurableIO
import Raft
import Testing
import TestSupport

/// Rolling to a new segment and deleting the newest segment once all of it is compacted, so compacted entries
/// leave every file (after a rewrite of old data).
@Suite struct LogPurgeTests {
    static func entries(_ range: ClosedRange<UInt64>, term: UInt64 = 1) -> [Entry] {
        range.map { Entry(term: term, index: $0, data: Array("CANARY-\($0)".utf8)) }
    }

    @Test func compactedEntriesLeaveEveryFileAndTheLogGoesOn() throws {
        let dir = TemporaryDirectory("log-purge")
        defer { dir.remove() }
        let fileSystem = PosixFileSystem()
        var log = try DurableLog.open(directory: dir.path, fileSystem: fileSystem)
        try log.append(Self.entries(1...10))
        try log.sync()
        try log.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 10, term: 1, configuration: ConfigurationState()),
                                      data: [1, 2, 3]))
        try log.compact(upTo: 10)
        log.rollSegment()
        try log.removeCompactedSegments()
        let names = try fileSystem.listDirectory(at: dir.file("log"))
        #expect(names.isEmpty, "\(names)")
        #expect(log.firstIndex == 11 && log.lastIndex == 10)
        try log.append(Self.entries(11...12))
        try log.sync()
        log = try DurableLog.open(directory: dir.path, fileSystem: fileSystem)
        #expect(log.firstIndex == 11 && log.lastIndex == 12)
        #expect(try log.entries(from: 11, to: 13, maxBytes: .max).map(\.index) == [11, 12])
    }

    @Test func aRolledLogKeepsNewEntriesApartFromOldOnes() throws {
        let dir = TemporaryDirectory("log-purge")
        defer { dir.remove() }
        let fileSystem = PosixFileSystem()
        let log = try DurableLog.open(directory: dir.path, fileSystem: fileSystem)
        try log.append(Self.entries(1...5))
        try log.sync()
        log.rollSegment()
        try log.append(Self.entries(6...7))
        try log.sync()
        #expect(try fileSystem.listDirectory(at: dir.file("log")).count == 2)
        try log.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1, configuration: ConfigurationState()),
                                      data: []))
        try log.compact(upTo: 5)
        try log.removeCompactedSegments()  // the newest segment holds 6 and 7: it stays
        let names = try fileSystem.listDirectory(at: dir.file("log"))
        #expect(names.count == 1)
        let kept = try fileSystem.readFile(at: dir.file("log") + "/" + names[0])
        #expect(!kept.contains(subsequence: Array("CANARY-5".utf8)) && kept.contains(subsequence: Array("CANARY-6".utf8)))
    }
}
