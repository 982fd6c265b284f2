import Raft
import Testing

/// The in-memory storage the tests and the simulator persist to.
@Suite struct CoreStorageTests {
    @Test func appendReplacesTheSuffixFromTheFirstNewIndex() throws {
        let storage = MemoryRaftStorage()
        storage.append([Entry(term: 1, index: 1), Entry(term: 1, index: 2), Entry(term: 1, index: 3)])
        storage.append([Entry(term: 2, index: 2)])

        #expect(storage.lastIndex == 2)
        #expect(try storage.term(at: 2) == 2)
        #expect(throws: RaftStorageError.unavailable) { try storage.entries(from: 1, to: 4, maxBytes: .max) }
    }

    @Test func entriesStopAtTheByteLimitButReturnAtLeastOne() throws {
        let storage = MemoryRaftStorage()
        storage.append((1...4).map { Entry(term: 1, index: UInt64($0), data: Array(repeating: 0, count: 100)) })

        #expect(try storage.entries(from: 1, to: 5, maxBytes: 10).count == 1)
        #expect(try storage.entries(from: 1, to: 5, maxBytes: 2 * (100 + Entry.headerBytes)).count == 2)
    }

    @Test func snapshotThenCompactionMovesTheFirstIndex() throws {
        let configuration = ConfigurationState(voters: [1])
        let storage = MemoryRaftStorage(configuration: configuration)
        storage.append((1...5).map { Entry(term: 1, index: UInt64($0)) })

        try storage.createSnapshot(at: 4, configuration: configuration, data: [1, 2])
        try storage.compact(through: 3)

        #expect(storage.firstIndex == 4)
        #expect(try storage.term(at: 3) == 1)
        #expect(throws: RaftStorageError.compacted) { try storage.term(at: 2) }
        #expect(throws: RaftStorageError.compacted) { try storage.entries(from: 3, to: 5, maxBytes: .max) }
        #expect(try storage.snapshot().metadata.index == 4)
        #expect(throws: RaftStorageError.compacted) { try storage.compact(through: 2) }
    }

    @Test func applyingASnapshotKeepsTheLogOnlyWhenItMatches() throws {
        let storage = MemoryRaftStorage()
        storage.append((1...5).map { Entry(term: 1, index: UInt64($0)) })

        storage.applySnapshot(Snapshot(metadata: SnapshotMetadata(index: 3, term: 1)))
        #expect(storage.firstIndex == 4 && storage.lastIndex == 5)

        storage.applySnapshot(Snapshot(metadata: SnapshotMetadata(index: 4, term: 9)))
        #expect(storage.firstIndex == 5 && storage.lastIndex == 4)
    }

    @Test func copyIsIndependent() {
        let storage = MemoryRaftStorage()
        let copy = storage.copy()
        storage.append([Entry(term: 1, index: 1)])

        #expect(copy.lastIndex == 0)
    }
}
