extension RaftNode {
    /// Appends an application command to the log, to be committed and handed out in a later ``Ready``.
    ///
    /// The entry is identified by the returned index together with the current ``term``: if the entry applied
    /// at that index has another term, this proposal was lost to a leader change and may be retried.
    ///
    /// - Returns: the index the entry was given.
    /// - Throws: ``RaftError/notLeader(leader:)`` on a non-leader (with the leader when known);
    ///   ``RaftError/notReadyToServe`` before a new leader applied an entry of its term;
    ///   ``RaftError/leadershipTransferInProgress``; ``RaftError/proposalTooLarge(bytes:limit:)``;
    ///   ``RaftError/tooManyUncommittedEntries(limit:)``.
    ///
    /// - Parameter requireReadyToServe: `false` lets a new leader append before it applied an entry of its term;
    ///   only for entries whose meaning does not depend on the state machine having caught up.
    @discardableResult
    public func propose(_ data: [UInt8], requireReadyToServe: Bool = true) throws(RaftError) -> UInt64 {
        try checkAcceptsProposals(bytes: data.count, requireReadyToServe: requireReadyToServe)
        return appendProposal(Entry(term: term, index: log.lastIndex + 1, kind: .normal, data: data))
    }

    /// Proposes one membership change.
    ///
    /// The change takes effect on each member as soon as the entry is in its log (committed or not); only one
    /// change may be uncommitted at a time. A leader that removes itself keeps leading until the change
    /// commits, without counting itself for quorum, then steps down.
    ///
    /// - Returns: the index the entry was given.
    /// - Throws: everything ``propose(_:)`` throws, ``RaftError/configurationChangePending``, and the
    ///   membership errors when the change does not fit the current membership.
    @discardableResult
    public func proposeConfigurationChange(_ change: ConfigurationChange) throws(RaftError) -> UInt64 {
        try change.validate(against: currentConfiguration)
        let payload = ConfigurationEntry(change: change, resulting: currentConfiguration.applying(change)).encoded
        try checkAcceptsProposals(bytes: payload.count)
        if lastConfigurationIndex > log.committed { throw .configurationChangePending }
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: .configurationChange, data: payload)
        return appendProposal(entry)
    }

    private func appendProposal(_ entry: Entry) -> UInt64 {
        appendAsLeader([entry])
        if role == .leader {
            broadcastAppend()
            if maybeCommit() { didCommitAsLeader() }
        }
        return entry.index
    }

    private func checkAcceptsProposals(bytes: Int, requireReadyToServe: Bool = true) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard isReadyToServe || !requireReadyToServe else { throw .notReadyToServe }
        guard transferTarget == nil else { throw .leadershipTransferInProgress }
        guard bytes <= configuration.maxProposalBytes else {
            throw .proposalTooLarge(bytes: bytes, limit: configuration.maxProposalBytes)
        }
        guard log.lastIndex - log.committed < UInt64(configuration.maxUncommittedEntries) else {
            throw .tooManyUncommittedEntries(limit: configuration.maxUncommittedEntries)
        }
    }

    /// Hands leadership to `target`: brings its log up to date, then tells it to campaign at once.
    ///
    /// Proposals are refused while the transfer runs; it is abandoned after one election timeout.
    ///
    /// - Throws: ``RaftError/notLeader(leader:)`` on a non-leader; ``RaftError/invalidTransferTarget(_:)``
    ///   when `target` is this member or not a voter.
    public func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard target != id, currentConfiguration.voters.contains(target) else { throw .invalidTransferTarget(target) }
        if transferTarget == target { return }
        transferTarget = target
        electionElapsed = 0
        if progress[target]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: target, term: term))
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
    }

    /// Asks for a linearizable read point for `context`.
    ///
    /// The leader records its commit index and confirms with a heartbeat quorum that it still leads; a
    /// follower forwards the request to the leader. Either way the answer arrives as a ``ReadState`` in a later
    /// ``Ready``; serve the read once the state machine has applied its index. Requests may be lost (with
    /// messages or a leader change): time them out. Contexts must be unique among pending requests.
    ///
    /// - Throws: ``RaftError/notLeader(leader:)`` when no leader is known;
    ///   ``RaftError/notReadyToServe`` on a leader that has not applied an entry of its term;
    ///   ``RaftError/tooManyPendingReads(limit:)``.
    ///
    /// - Parameter leaseBased: on a leader with check-quorum that heard from a quorum of voters in the current
    ///   election period, answer at once at the commit index instead of confirming with a heartbeat round.
    ///   Followers do not vote for a rival while they hear from this leader, so its lease holds for an election
    ///   timeout, provided clocks run at similar rates: an opt-in trade of that assumption for latency.
    public func readIndex(context: [UInt8], leaseBased: Bool = false) throws(RaftError) {
        guard role == .leader else {
            guard leaderID != 0 else { throw .notLeader(leader: nil) }
            send(Message(kind: .readIndex, from: id, to: leaderID, term: term, context: context))
            return
        }
        guard isReadyToServe else { throw .notReadyToServe }
        if leaseBased && configuration.checkQuorum && hasRecentQuorum {
            readStates.append(ReadState(index: log.committed, context: context))
            return
        }
        guard pendingReads.count < configuration.maxPendingReadRequests else {
            throw .tooManyPendingReads(limit: configuration.maxPendingReadRequests)
        }
        acceptReadRequest(context: context, requester: 0)
    }

    /// Records a read at the current commit index and asks a heartbeat quorum to confirm leadership.
    func acceptReadRequest(context: [UInt8], requester: NodeID) {
        let read = PendingRead(context: context, index: log.committed, requester: requester, acknowledgements: [id])
        if currentConfiguration.voters == [id] {
            deliverRead(read)
            return
        }
        guard pendingReads.count < configuration.maxPendingReadRequests else { return }
        pendingReads.append(read)
        broadcastHeartbeat(context: context)
    }

    /// A heartbeat answer echoed `context`: once a quorum confirmed it, that read and all earlier ones are safe.
    func acknowledgeRead(context: [UInt8], from member: NodeID) {
        guard let position = pendingReads.firstIndex(where: { $0.context == context }) else { return }
        pendingReads[position].acknowledgements.insert(member)
        let confirmed = pendingReads[position].acknowledgements.intersection(currentConfiguration.voters).count
        guard confirmed >= currentConfiguration.quorum else { return }
        let released = pendingReads[...position]
        pendingReads.removeFirst(position + 1)
        for read in released { deliverRead(read) }
    }

    private func deliverRead(_ read: PendingRead) {
        if read.requester == 0 {
            readStates.append(ReadState(index: read.index, context: read.context))
        } else {
            send(
                Message(
                    kind: .readIndexResponse, from: id, to: read.requester, term: term, index: read.index,
                    context: read.context))
        }
    }
}
