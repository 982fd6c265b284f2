extension DurableLog {
    /// Persists what one ready batch of the consensus core asks for, in the order that keeps restarts safe.
    ///
    /// 1. `snapshot` (from the leader): saved durably; the entries it covers are compacted, or the whole log
    ///    is replaced when it does not continue the snapshot.
    /// 2. `entries`: entries the snapshot or compaction already cover are skipped; any stored suffix from the
    ///    first remaining entry's index on is truncated (a follower's conflict), then the entries are appended
    ///    and synced with one fsync.
    /// 3. `hardState`: replaced atomically when its term or vote changed. A change of the commit index alone
    ///    is kept in memory only (``hardState`` reports it) and reaches the disk with the next term or vote
    ///    change: the commit index is not part of Raft's durable state (a restarted member re-learns it from
    ///    the leader), and writing it durably would cost two fsyncs per batch. After a restart the persisted
    ///    commit index may therefore be lower than it was; it is never higher than the durable log.
    ///
    /// The hard state goes last because its commit index may point at the entries of the same batch: written
    /// first, a crash could leave a commit index past the durable log, which the core refuses on restart.
    /// A term or vote lost by a crash between steps 2 and 3 is harmless: the batch's messages are sent only
    /// after this call returns, so nobody saw them.
    ///
    /// - Throws: the errors of ``saveSnapshot(_:)``, ``truncateSuffix(from:)``, ``append(_:)``, ``sync()`` and
    ///   ``setHardState(_:)``. After an I/O error the log is failed and must be reopened.
    public func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws(RaftLogError) {
        if let snapshot {
            try saveSnapshot(snapshot)
            if snapshot.metadata.index > compactedIndex { try compact(upTo: snapshot.metadata.index) }
        }
        let newEntries = entries.drop { $0.index <= compactedIndex }
        if let first = newEntries.first {
            if first.index <= lastIndex { try truncateSuffix(from: first.index) }
            try append(Array(newEntries))
        }
        try sync()
        guard let hardState else { return }
        if hardState.term != self.hardState.term || hardState.vote != self.hardState.vote {
            try setHardState(hardState)
        } else {
            precondition(hardState.commit <= lastIndex, "commit index \(hardState.commit) is past the log")
            self.hardState.commit = max(self.hardState.commit, hardState.commit)
        }
    }
}
