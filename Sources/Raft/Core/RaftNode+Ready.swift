extension RaftNode {
    /// The hard state as it should be persisted now.
    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// Whether ``ready()`` would return a non-empty batch.
    public var hasReady: Bool {
        hardState != persistedHardState || !log.unstableEntries.isEmpty || log.unstableSnapshot != nil
            || !outbox.isEmpty || !readStates.isEmpty
            || min(log.committed, applyLimit) > max(log.applied, log.unstableSnapshot?.metadata.index ?? 0)
    }

    /// Collects what must be persisted, sent and applied, as documented on ``Ready``.
    ///
    /// Messages and read states are handed out once; the rest is handed out again until ``advance(_:)``
    /// reports it done.
    public func ready() -> Ready {
        let current = hardState
        let mustSync =
            !log.unstableEntries.isEmpty || log.unstableSnapshot != nil || current.term != persistedHardState.term
            || current.vote != persistedHardState.vote
        let batch = Ready(
            hardState: current == persistedHardState ? nil : current,
            entries: log.unstableEntries,
            snapshot: log.unstableSnapshot,
            messages: outbox,
            committedEntries: log.nextCommittedEntries(
                maxBytes: configuration.maxCommittedBytesPerReady, through: applyLimit),
            readStates: readStates,
            mustSync: mustSync)
        var result = batch
        result.maySendBeforePersisting = role == .leader && current.term == persistedHardState.term
            && current.vote == persistedHardState.vote && log.unstableSnapshot == nil
        outbox = []
        readStates = []
        return result
    }

    /// Reports that everything in `ready` was persisted, sent and applied.
    ///
    /// A leader counts its own newly persisted entries towards commitment here, so a single-member cluster
    /// commits on the next batch.
    public func advance(_ ready: Ready) {
        advance(ready, appliedThrough: ready.committedEntries.last?.index ?? 0)
    }

    /// Reports that `ready` was persisted and sent, and its committed entries applied through `appliedThrough`.
    ///
    /// The entries after `appliedThrough` are handed out again by a later ``ready()``; set ``applyLimit`` to
    /// hold them back until the driver can apply them.
    public func advance(_ ready: Ready, appliedThrough: UInt64) {
        if let hardState = ready.hardState { persistedHardState = hardState }
        if let snapshot = ready.snapshot {
            log.snapshotPersisted(index: snapshot.metadata.index)
            log.applied = max(log.applied, snapshot.metadata.index)
        }
        if let last = ready.entries.last { log.stable(through: last.index, term: last.term) }
        if let last = ready.committedEntries.last {
            precondition(last.index <= log.committed, "Applied entry \(last.index) was never committed.")
            log.applied = max(log.applied, min(last.index, appliedThrough))
        }
        if role == .leader && maybeCommit() { didCommitAsLeader() }
    }
}
