import Raft
import TestSupport
import Testing

/// Snapshot chunks as a follower sees them.
@Suite struct CoreSnapshotTests {
    static func chunk(_ offset: Int, _ data: [UInt8], total: Int) -> Message {
        let metadata = SnapshotMetadata(index: 10, term: 2, configuration: ConfigurationState(voters: [1, 2]))
        let chunk = SnapshotChunk(metadata: metadata, offset: offset, totalBytes: total, data: data)
        return Message(kind: .snapshotChunk, from: 1, to: 2, term: 2, snapshotChunk: chunk)
    }

    @Test func chunksAreReassembledInOrderAndInstalledWhenComplete() throws {
        let (node, storage) = try CoreElectionTests.makeNode(2, voters: [1, 2])

        node.step(Self.chunk(0, [1, 2], total: 5))
        let first = CoreElectionTests.drain(node, storage)
        #expect(first.messages.first?.kind == .snapshotChunkResponse)
        #expect(first.messages.first?.rejectHint == 2)
        #expect(first.snapshot == nil)

        node.step(Self.chunk(4, [5], total: 5))
        #expect(CoreElectionTests.drain(node, storage).messages.first?.rejectHint == 2, "a gap is refused")

        node.step(Self.chunk(2, [3, 4, 5], total: 5))
        let installed = CoreElectionTests.drain(node, storage)
        #expect(installed.snapshot?.data == [1, 2, 3, 4, 5])
        #expect(installed.messages.first == Message(kind: .appendResponse, from: 2, to: 1, term: 2, index: 10))
        #expect(node.commitIndex == 10 && node.appliedIndex == 10)
        #expect(storage.firstIndex == 11)
    }
}
