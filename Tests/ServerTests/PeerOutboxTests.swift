import Raft
import Testing

@testable import Server

/// The bounded per-peer queue behind ``GRPCRaftTransport/send(_:)``.
@Suite struct PeerOutboxTests {
    func message(_ kind: MessageKind, _ commit: UInt64) -> Message {
        Message(kind: kind, from: 1, to: 2, term: 1, commit: commit)
    }

    @Test func fullQueueDropsTheOldestNonSnapshotMessage() async {
        let outbox = PeerOutbox(address: "127.0.0.1:1", capacity: 3, capacityBytes: 1 << 20)
        #expect(outbox.enqueue([message(.snapshotChunk, 0), message(.heartbeat, 1), message(.heartbeat, 2)]) == 0)
        #expect(outbox.enqueue([message(.heartbeat, 3)]) == 1)
        #expect(await outbox.next()?.map(\.commit) == [0, 2, 3])
    }

    @Test func queueOfSnapshotChunksDropsTheOldestChunk() async {
        let outbox = PeerOutbox(address: "127.0.0.1:1", capacity: 2, capacityBytes: 1 << 20)
        #expect(outbox.enqueue((1...3).map { message(.snapshotChunk, $0) }) == 1)
        #expect(await outbox.next()?.map(\.commit) == [2, 3])
    }

    @Test func byteLimitDropsOldestAndKeepsTheNewestWhateverItsSize() async {
        let outbox = PeerOutbox(address: "127.0.0.1:1", capacity: 100, capacityBytes: 1000)
        func append(_ commit: UInt64, bytes: Int) -> Message {
            Message(
                kind: .append, from: 1, to: 2, term: 1,
                entries: [Entry(term: 1, index: commit, data: .init(repeating: 0, count: bytes))], commit: commit)
        }
        let size = PeerOutbox.queuedBytes(of: append(0, bytes: 283))
        #expect(size == 300)
        #expect(outbox.enqueue([append(1, bytes: 283), append(2, bytes: 283), append(3, bytes: 283)]) == 0)
        #expect(outbox.enqueue([append(4, bytes: 283)]) == 1)
        #expect(outbox.enqueue([append(5, bytes: 5000)]) == 3)
        #expect(await outbox.next()?.map(\.commit) == [5])
    }

    @Test func waitingConsumerIsWokenByEnqueueAndClose() async {
        let outbox = PeerOutbox(address: "127.0.0.1:1", capacity: 4, capacityBytes: 1 << 20)
        async let batch = outbox.next()
        try? await Task.sleep(for: .milliseconds(20))
        outbox.enqueue([message(.append, 9)])
        #expect(await batch?.map(\.commit) == [9])
        async let end = outbox.next()
        async let closed: Void = outbox.waitUntilClosed()
        try? await Task.sleep(for: .milliseconds(20))
        outbox.enqueue([message(.append, 10)])
        let dropped = outbox.close()
        _ = await closed
        let last = await end
        // The consumer either took message 10 before the close, or the close dropped it.
        #expect((last?.map(\.commit) == [10] && dropped == 0) || (last == nil && dropped == 1))
        #expect(outbox.enqueue([message(.append, 11)]) == 1)
        #expect(await outbox.next() == nil)
    }

    @Test func cancelledConsumerReturnsNil() async {
        let outbox = PeerOutbox(address: "127.0.0.1:1", capacity: 4, capacityBytes: 1 << 20)
        let task = Task { await outbox.next() }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        #expect(await task.value == nil)
    }
}
