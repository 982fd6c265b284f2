extension RaftNode {
    /// `peer` needs entries that were compacted: switch it to snapshot state and send the first chunk.
    func startSnapshot(to peer: NodeID) {
        guard let snapshot = loadSnapshot() else { return }
        progress[peer]?.becomeSnapshot(index: snapshot.metadata.index)
        sendSnapshotChunk(to: peer)
    }

    private func loadSnapshot() -> Snapshot? {
        do {
            return try log.storage.snapshot()
        } catch .snapshotTemporarilyUnavailable {
            return nil
        } catch {
            preconditionFailure("Reading the snapshot failed: \(error). The member must restart.")
        }
    }

    /// Sends the chunk after what `peer` acknowledged; restarts from byte 0 if a newer snapshot replaced it.
    func sendSnapshotChunk(to peer: NodeID) {
        guard var state = progress[peer], case .snapshot(let index) = state.state,
            let snapshot = loadSnapshot()
        else { return }
        if snapshot.metadata.index != index {
            state.becomeSnapshot(index: snapshot.metadata.index)
        }
        let total = snapshot.data.count
        let offset = min(state.snapshotBytesAcknowledged, total)
        let end = min(total, offset + configuration.maxSnapshotChunkBytes)
        let chunk = SnapshotChunk(
            metadata: snapshot.metadata, offset: offset, totalBytes: total, data: Array(snapshot.data[offset..<end]))
        send(Message(kind: .snapshotChunk, from: id, to: peer, term: term, snapshotChunk: chunk))
        state.heartbeatsSinceSnapshotChunk = 0
        progress[peer] = state
    }

    func handleSnapshotChunkResponse(_ message: Message) {
        guard var state = progress[message.from], case .snapshot(let index) = state.state, message.index == index
        else { return }
        state.isRecentlyActive = true
        state.snapshotBytesAcknowledged = Int(message.rejectHint)
        progress[message.from] = state
        sendSnapshotChunk(to: message.from)
    }

    /// Reassembles chunks in order; installs the snapshot when the last one arrives.
    func handleSnapshotChunk(_ message: Message) {
        guard let chunk = message.snapshotChunk else { return }
        let metadata = chunk.metadata
        if metadata.index <= log.committed {
            incomingSnapshot = nil
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.committed))
            return
        }
        if chunk.offset == 0 { incomingSnapshot = (metadata, []) }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata, incoming.data.count == chunk.offset
        else {
            let held = incomingSnapshot?.metadata == metadata ? incomingSnapshot?.data.count ?? 0 : 0
            send(
                Message(
                    kind: .snapshotChunkResponse, from: id, to: message.from, term: term, index: metadata.index,
                    rejectHint: UInt64(held)))
            return
        }
        incoming.data.append(contentsOf: chunk.data)
        if incoming.data.count < chunk.totalBytes {
            incomingSnapshot = incoming
            send(
                Message(
                    kind: .snapshotChunkResponse, from: id, to: message.from, term: term, index: metadata.index,
                    rejectHint: UInt64(incoming.data.count)))
            return
        }
        incomingSnapshot = nil
        install(Snapshot(metadata: metadata, data: incoming.data))
        send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: metadata.index))
    }

    /// Replaces the log with a snapshot, unless the log already holds its last entry (then it only commits).
    private func install(_ snapshot: Snapshot) {
        let metadata = snapshot.metadata
        if log.matchesTerm(metadata.index, metadata.term) {
            log.commit(to: metadata.index)
            return
        }
        log.restore(snapshot)
        baseConfiguration = metadata.configuration
        configurationHistory = []
    }

    /// The driver compacted the stable log through `index` (after taking a snapshot there).
    ///
    /// The core reads the log's bounds from storage, so this only lets it forget the membership history
    /// before `index`; the history it keeps must start where the log starts.
    ///
    /// - Precondition: `index` is applied: compacting unapplied entries would lose them.
    public func didCompact(through index: UInt64) {
        precondition(index <= log.applied, "Compacted through \(index) beyond the applied index \(log.applied).")
        baseConfiguration = configurationState(asOf: index)
        configurationHistory.removeAll { $0.index <= index }
    }
}
