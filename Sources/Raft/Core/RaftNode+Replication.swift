extension RaftNode {
    /// Appends entries this leader created, records configuration entries, and commits if a quorum allows.
    func appendAsLeader(_ entries: [Entry]) {
        precondition(role == .leader, "Only a leader appends entries of its own.")
        log.append(entries)
        recordAppended(entries)
    }

    /// The last index this member has persisted (what it may count for itself towards a quorum).
    var persistedLastIndex: UInt64 { min(log.unstableOffset - 1, log.lastIndex) }

    /// Sends each follower what it is missing, or an empty append to spread the commit index.
    func broadcastAppend() {
        for peer in progress.keys.sorted() where !sendAppendsUntilPaused(to: peer) {
            sendAppend(to: peer, sendIfEmpty: true)
        }
    }

    /// Pipelines appends to `peer` until flow control pauses it or it has everything; returns whether any was
    /// sent.
    @discardableResult
    func sendAppendsUntilPaused(to peer: NodeID) -> Bool {
        var sentAny = false
        while sendAppend(to: peer, sendIfEmpty: false) { sentAny = true }
        return sentAny
    }

    /// Sends one append to `peer` (or starts a snapshot when the entries it needs are compacted); returns
    /// whether an append carrying entries went out.
    @discardableResult
    func sendAppend(to peer: NodeID, sendIfEmpty: Bool) -> Bool {
        guard var state = progress[peer] else { return false }
        if state.isPaused(
            maxInflightMessages: configuration.maxInflightMessages, maxInflightBytes: configuration.maxInflightBytes)
        {
            return false
        }
        let previousIndex = state.next - 1
        precondition(previousIndex <= log.lastIndex, "Follower \(peer)'s next index is past the leader's log.")
        let high = state.next + UInt64(configuration.maxEntriesPerAppend)
        guard let previousTerm = log.term(at: previousIndex),
            let entries = log.entries(from: state.next, to: high, maxBytes: configuration.maxBytesPerAppend)
        else {
            startSnapshot(to: peer)
            return false
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        let message = Message(
            kind: .append, from: id, to: peer, term: term, logTerm: previousTerm, index: previousIndex,
            entries: entries, commit: log.committed)
        send(message)
        if let last = entries.last {
            state.sent(lastIndex: last.index, bytes: message.payloadBytes)
        } else if state.state == .probe {
            state.isProbeSent = true
        }
        progress[peer] = state
        return !entries.isEmpty
    }

    /// Heartbeats carry a commit index the follower surely holds, and the context of a pending read.
    func broadcastHeartbeat(context: [UInt8]) {
        for peer in progress.keys.sorted() {
            let commit = min(progress[peer]?.match ?? 0, log.committed)
            send(Message(kind: .heartbeat, from: id, to: peer, term: term, commit: commit, context: context))
        }
    }

    /// Advances the commit index to the highest index a quorum of voters holds, if it is of this term.
    ///
    /// Entries of earlier terms are committed only indirectly, by an entry of this term after them (§5.4.2,
    /// Figure 8 of the paper).
    @discardableResult
    func maybeCommit() -> Bool {
        let voters = currentConfiguration.voters
        guard !voters.isEmpty else { return false }
        let matches = voters.map { $0 == id ? persistedLastIndex : (progress[$0]?.match ?? 0) }.sorted(by: >)
        let candidate = matches[currentConfiguration.quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        return true
    }

    /// After the commit index moved: tell everyone, and step down if the committed membership left us out.
    func didCommitAsLeader() {
        broadcastAppend()
        if !currentConfiguration.voters.contains(id) && log.committed >= lastConfigurationIndex {
            becomeFollower(term: term, leader: 0)
        }
    }

    func handleAppend(_ message: Message) {
        if message.index < log.committed {
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.committed))
            return
        }
        if let result = log.appendIfMatching(
            index: message.index, term: message.logTerm, commit: message.commit, entries: message.entries)
        {
            recordAppended(result.appended)
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: result.lastNew))
        } else {
            let hint = log.conflictHint(index: min(message.index, log.lastIndex), term: message.logTerm)
            send(
                Message(
                    kind: .appendResponse, from: id, to: message.from, term: term, index: message.index,
                    reject: true, rejectHint: hint.index, rejectHintTerm: hint.term))
        }
    }

    func handleHeartbeat(_ message: Message) {
        log.commit(to: min(message.commit, log.lastIndex))
        send(Message(kind: .heartbeatResponse, from: id, to: message.from, term: term, context: message.context))
    }

    func handleAppendResponse(_ message: Message) {
        guard var state = progress[message.from] else { return }
        state.isRecentlyActive = true
        if message.reject {
            progress[message.from] = state
            handleAppendRejection(message)
            return
        }
        guard state.acknowledge(message.index) else {
            progress[message.from] = state
            return
        }
        switch state.state {
        case .probe: state.becomeReplicate()
        case .snapshot(let index) where state.match >= index: state.becomeReplicate()
        default: break
        }
        progress[message.from] = state
        if maybeCommit() {
            didCommitAsLeader()
            guard role == .leader else { return }
        } else {
            sendAppendsUntilPaused(to: message.from)
        }
        if message.from == transferTarget && progress[message.from]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: message.from, term: term))
        }
    }

    /// The follower's log disagrees at `message.index`: back off to the hinted position and probe again.
    private func handleAppendRejection(_ message: Message) {
        guard var state = progress[message.from] else { return }
        switch state.state {
        case .replicate:
            guard message.index >= state.match else { return }
            state.becomeProbe()
        case .probe:
            guard message.index == state.next - 1 else { return }
        case .snapshot:
            return
        }
        if message.rejectHint < state.match {
            // The follower no longer holds entries it acknowledged (its data dir was put back from an older
            // copy, or its disk lost a sync). Raft cannot vouch for those acknowledgements any more, but it can
            // repair the log: probe from what the follower has. Lowering a match only delays commits.
            state.match = message.rejectHint
        }
        var probeFrom = message.rejectHint
        if message.rejectHintTerm > 0 {
            probeFrom = log.conflictHint(index: message.rejectHint, term: message.rejectHintTerm).index
        }
        state.next = max(state.match + 1, min(probeFrom + 1, message.index))
        state.isProbeSent = false
        progress[message.from] = state
        sendAppend(to: message.from, sendIfEmpty: true)
    }

    func handleHeartbeatResponse(_ message: Message) {
        guard var state = progress[message.from] else { return }
        state.isRecentlyActive = true
        state.isProbeSent = false
        if state.state == .replicate
            && state.inflight.count >= configuration.maxInflightMessages, let first = state.inflight.first
        {
            // An acknowledgement may have been lost: release the oldest slot so replication cannot stall.
            state.freeInflight(through: first.lastIndex)
        }
        if case .snapshot = state.state { state.heartbeatsSinceSnapshotChunk += 1 }
        progress[message.from] = state
        if case .snapshot = state.state {
            if state.heartbeatsSinceSnapshotChunk >= configuration.snapshotChunkRetryHeartbeats {
                sendSnapshotChunk(to: message.from)
            }
        } else if state.match < log.lastIndex {
            // Even with nothing new to send, an (empty) append makes the follower report its match again, in
            // case the acknowledgement of the last entries was lost.
            sendAppend(to: message.from, sendIfEmpty: true)
        }
        if !message.context.isEmpty { acknowledgeRead(context: message.context, from: message.from) }
    }
}
