/// What a leader knows about one follower's log and how it is currently replicating to it.
struct ReplicationProgress {
    /// How the leader sends to this follower.
    enum State: Hashable {
        /// Position unknown: one append at a time, waiting for each answer.
        case probe
        /// Position known: appends are pipelined up to the in-flight limits.
        case replicate
        /// The follower needs the snapshot at this index, sent chunk by chunk.
        case snapshot(index: UInt64)
    }

    /// The highest index known to be in the follower's log.
    var match: UInt64 = 0
    /// The next index to send.
    var next: UInt64
    var state: State = .probe
    /// In probe state: an append was sent and its answer (or a heartbeat answer) is awaited.
    var isProbeSent = false
    /// In snapshot state: bytes of the snapshot the follower acknowledged.
    var snapshotBytesAcknowledged = 0
    /// In snapshot state: heartbeat answers received since the last chunk was sent, to resend a lost chunk.
    var heartbeatsSinceSnapshotChunk = 0
    /// Whether the follower answered anything since the last check-quorum round.
    var isRecentlyActive = false
    /// Appends in flight: last index and byte size of each, oldest first.
    var inflight: [(lastIndex: UInt64, bytes: Int)] = []
    var inflightBytes = 0

    init(next: UInt64) {
        self.next = next
    }

    /// Whether the leader should wait before sending more entries.
    func isPaused(maxInflightMessages: Int, maxInflightBytes: Int) -> Bool {
        switch state {
        case .probe: return isProbeSent
        case .replicate: return inflight.count >= maxInflightMessages || inflightBytes >= maxInflightBytes
        case .snapshot: return true
        }
    }

    /// Records an acknowledgement through `index`; returns whether it told the leader something new.
    mutating func acknowledge(_ index: UInt64) -> Bool {
        var updated = false
        if index > match {
            match = index
            updated = true
            isProbeSent = false
        }
        next = max(next, index + 1)
        freeInflight(through: index)
        return updated
    }

    mutating func freeInflight(through index: UInt64) {
        while let first = inflight.first, first.lastIndex <= index {
            inflightBytes -= first.bytes
            inflight.removeFirst()
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let index) = state {
            next = max(match, index) + 1
        } else {
            next = match + 1
        }
        state = .probe
        isProbeSent = false
        inflight.removeAll()
        inflightBytes = 0
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        isProbeSent = false
        inflight.removeAll()
        inflightBytes = 0
    }

    mutating func becomeSnapshot(index: UInt64) {
        state = .snapshot(index: index)
        snapshotBytesAcknowledged = 0
        inflight.removeAll()
        inflightBytes = 0
    }

    /// Records an append just sent, for flow control.
    mutating func sent(lastIndex: UInt64, bytes: Int) {
        switch state {
        case .replicate:
            next = lastIndex + 1
            inflight.append((lastIndex, bytes))
            inflightBytes += bytes
        case .probe:
            isProbeSent = true
        case .snapshot:
            preconditionFailure("The leader sent log entries to a follower that is waiting for a snapshot.")
        }
    }
}
