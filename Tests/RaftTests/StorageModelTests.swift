import DurableIO
import TestSupport
import Testing

@testable import Raft

/// Random operation sequences checked against a plain in-memory model after every step, on the simulated
/// and on the real file system (whose file handles keep their own write offsets).
@Suite struct StorageModelTests {
    @Test(arguments: [false, true]) func randomOperationsMatchTheModel(onPosix: Bool) throws {
        // Fewer seeds on the real disk, where every step costs several fsyncs.
        for seed in UInt64(0)..<(onPosix ? 3 : 24) {
            let directory = onPosix ? try makeStorageTemporaryDirectory() : "/data"
            defer { if onPosix { removeStorageTemporaryDirectory(directory) } }
            let simulated = SimulatedFileSystem(seed: seed)
            let fs: any FileSystem = onPosix ? PosixFileSystem() : simulated
            var random = SplitMix64(seed: seed)
            var model = LogModel()
            var log = try DurableLog.open(directory: directory, fileSystem: fs, configuration: tinySegmentLimits)
            for step in 0..<80 {
                let choice = random.next() % 10
                if choice == 9 {
                    try log.close()
                    if !onPosix { simulated.crash() }
                    log = try DurableLog.open(directory: directory, fileSystem: fs, configuration: tinySegmentLimits)
                    model.restarted()
                } else {
                    try model.perform(choice, on: log, random: &random)
                }
                try model.check(log, context: "seed \(seed) step \(step) choice \(choice)")
            }
        }
    }
}

/// What the log should hold: entries after the compaction point, and the newest snapshot.
struct LogModel {
    var entries: [Entry] = []
    var compactedIndex: UInt64 = 0
    var compactedTerm: UInt64 = 0
    var snapshotIndex: UInt64 = 0
    var term: UInt64 = 1

    var lastIndex: UInt64 { compactedIndex + UInt64(entries.count) }

    mutating func perform(_ choice: UInt64, on log: DurableLog, random: inout SplitMix64) throws {
        switch choice {
        case 0...3:
            try append(count: 1 + Int(random.next() % 6), to: log)
        case 4, 5:
            let floor = max(snapshotIndex, compactedIndex)
            guard lastIndex > floor else { return try append(count: 2, to: log) }
            let from = floor + 1 + random.next() % (lastIndex - floor)
            try log.truncateSuffix(from: from)
            entries.removeLast(Int(lastIndex - from + 1))
            term += 1
            try append(count: 1 + Int(random.next() % 4), to: log)
        case 6, 7:
            guard lastIndex > max(snapshotIndex, compactedIndex) else { return }
            let floor = max(snapshotIndex, compactedIndex)
            let index = floor + 1 + random.next() % (lastIndex - floor)
            try log.createSnapshot(
                at: index, configuration: ConfigurationState(voters: [1]), data: [UInt8(index % 251)])
            snapshotIndex = index
            if random.next() % 2 == 0 { try compact(upTo: index, log: log) }
        default:
            try installSnapshot(at: lastIndex + random.next() % 4, log: log)
        }
    }

    private mutating func append(count: Int, to log: DurableLog) throws {
        let batch = (0..<count).map { offset in storageEntry(lastIndex + 1 + UInt64(offset), term: term) }
        try log.append(batch)
        try log.sync()
        entries += batch
    }

    private mutating func compact(upTo index: UInt64, log: DurableLog) throws {
        try log.compact(upTo: index)
        compactedTerm = entries[Int(index - compactedIndex - 1)].term
        entries.removeFirst(Int(index - compactedIndex))
        compactedIndex = index
    }

    /// A snapshot from a leader in a newer term: it never matches the log, which is replaced.
    private mutating func installSnapshot(at index: UInt64, log: DurableLog) throws {
        guard index > max(snapshotIndex, compactedIndex) else { return }
        term += 1
        try log.saveSnapshot(storageSnapshot(index: index, term: term))
        entries = []
        compactedIndex = index
        compactedTerm = term
        snapshotIndex = index
    }

    /// After a restart the log starts right after the newest snapshot.
    mutating func restarted() {
        guard snapshotIndex > compactedIndex else { return }
        compactedTerm = entries[Int(snapshotIndex - compactedIndex - 1)].term
        entries.removeFirst(Int(snapshotIndex - compactedIndex))
        compactedIndex = snapshotIndex
    }

    func check(_ log: DurableLog, context: String) throws {
        #expect(log.lastIndex == lastIndex, "\(context)")
        #expect(log.firstIndex == compactedIndex + 1, "\(context)")
        #expect(try log.term(at: compactedIndex) == compactedTerm, "\(context)")
        #expect(try readAllEntries(log) == entries, "\(context)")
        #expect(try log.snapshot().metadata.index == snapshotIndex, "\(context)")
        if let last = entries.last { #expect(try log.term(at: last.index) == last.term, "\(context)") }
    }
}
