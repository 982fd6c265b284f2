import Foundation
import Encryption
import KV
import Raft
import Storage

extension ReplicatedNode {
    /// The most ready batches handled in one call, so one input cannot monopolise the actor.
    static let maxReadyBatchesPerCall = 64

    /// Runs the core's ready batches: persist, send, apply, advance (a leader sends first when it may).
    func process() {
        advanceWriterRegistration()
        var batches = 0
        while halt == nil, core.hasReady, batches < Self.maxReadyBatchesPerCall {
            batches += 1
            let ready = core.ready()
            if ready.maySendBeforePersisting { transport?.send(ready.messages) }
            do {
                try log.persist(hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot)
            } catch {
                stop("the Raft log failed: \(error); the node must be restarted")
                return
            }
            if !ready.maySendBeforePersisting { transport?.send(ready.messages) }
            if let snapshot = ready.snapshot, snapshot.metadata.index > 0 { restore(snapshot) }
            apply(ready.committedEntries)
            for read in ready.readStates {
                guard let waiter = readRequests.removeValue(forKey: read.context) else { continue }
                renewLease(confirmedReadIssuedAt: waiter.issuedAt, term: waiter.term)
                waiter.continuation.resume(returning: .success(read.index))
            }
            guard halt == nil else { return }
            core.advance(ready)
            releaseReads()
        }
        failRequestsAfterLeadershipChange()
        takeSnapshotIfDue()
        compactAfterRewrite()
        seedDirectoryIfLeader()
        updateGauges()
    }

    /// Applies committed entries to the state machine and answers the proposals among them.
    func apply(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        let committed = entries.map { entry in
            CommittedEntry(index: entry.index, term: entry.term, data: entry.kind == .normal ? entry.data : [])
        }
        let outcome = machine.apply(committed)
        applied.bump()
        if entries.contains(where: { $0.kind != .normal && $0.index <= outcome.appliedIndex }) { logMembership() }
        for entry in entries where entry.index <= outcome.appliedIndex {
            guard let waiter = proposals.removeValue(forKey: entry.index) else { continue }
            if entry.term == waiter.term {
                waiter.continuation.resume(returning: .success(outcome.results[entry.index] ?? []))
            } else {
                waiter.continuation.resume(returning: .failure(.tryAgain("leadership changed before the write committed; it was not applied")))
            }
        }
        if let halt = outcome.halt { stop(halt.description) }
    }

    /// Logs the configuration after a membership change applied (on every member).
    func logMembership() {
        let directory = memberDirectory()
        let configuration = core.configurationState
        let names = { (ids: Set<NodeID>) in ids.map { directory[$0]?.name ?? String($0) }.sorted().joined(separator: ",") }
        logger.info("membership changed", metadata: [
            "voters": "\(names(configuration.voters))", "learners": "\(names(configuration.learners))",
        ])
    }

    /// Replaces the store with a snapshot the leader sent.
    func restore(_ snapshot: Snapshot) {
        do throws(StorageError) {
            try store.importSnapshot(bytes: snapshot.data)
            // The WAL still holds the pages of the replaced rows until it is truncated.
            try store.checkpoint()
            logger.info("installed snapshot", metadata: ["index": "\(snapshot.metadata.index)"])
        } catch {
            stop(StateMachineHalt(index: snapshot.metadata.index, cause: .storage(error)).description)
        }
        lastSnapshotIndex = snapshot.metadata.index
        adoptEncryptionState(index: snapshot.metadata.index)
    }

    /// Writes the encryption state a snapshot carried to the sidecar before any later entry applies.
    func adoptEncryptionState(index: UInt64) {
        guard halt == nil else { return }
        guard let encryption else {
            if (try? store.meta(KVEncryption.replicatedStateMetaName)) != nil {
                stop(StateMachineHalt(index: index, cause: .encryptionNotConfigured).description
                    + "; the snapshot holds encrypted data: restart with --encryption-enabled and the cluster's KEK")
            }
            return
        }
        do throws(ApplyHalt) { try encryption.adoptSnapshotState(at: index) } catch {
            stop(error.description)
        }
    }

    /// Snapshots the store and compacts the log once enough entries were applied since the last snapshot.
    func takeSnapshotIfDue() {
        guard core.appliedIndex >= lastSnapshotIndex + options.snapshotEveryEntries else { return }
        takeSnapshot(keepingEntries: options.entriesKeptAfterSnapshot)
    }

    /// Snapshots the store at the applied index, compacts the log behind it except the last `keepingEntries`
    /// entries, and collects the store's garbage.
    ///
    /// Garbage collection is node-local (replicas answer the same whether or not shadowed, deleted or expired
    /// versions are still there); it removes old cleartext versions after Phase 1 and lets sealed versions of
    /// an old storage DEK disappear once their keys were overwritten, so the DEK can be retired.
    @discardableResult
    func takeSnapshot(keepingEntries: UInt64) -> Bool {
        let applied = core.appliedIndex
        guard halt == nil, applied > 0 else { return false }
        do {
            var data: [UInt8] = []
            let summary = try store.exportSnapshot { data.append(contentsOf: $0) }
            guard summary.appliedIndex == applied else { return false }
            try log.createSnapshot(at: applied, configuration: core.configurationState(asOf: applied), data: data)
            lastSnapshotIndex = applied
            lastSnapshotUnixSeconds = Int64(Date().timeIntervalSince1970)
            if applied > keepingEntries {
                let through = applied - keepingEntries
                if through >= log.firstIndex {
                    try log.compact(upTo: through)
                    core.didCompact(through: through)
                }
            }
            logger.info("took snapshot", metadata: ["index": "\(applied)", "bytes": "\(data.count)"])
        } catch {
            logThrottle.warning(logger, key: "snapshot", "snapshot failed; will retry", metadata: ["error": "\(error)"])
            return false
        }
        collectGarbage()
        return true
    }

    /// Once a rewrite run finished on this replica: a snapshot at the applied index with the whole log
    /// compacted behind it, older snapshots removed and the store's WAL truncated, so the old ciphertext and
    /// cleartext (log entries from before the raft cut-over, pages of rows before they were re-sealed) leave
    /// every file of the data directory.
    ///
    /// Entries appended but not yet applied share the newest segment file with the old ones, so the log rolls
    /// to a new file and the old one goes once those entries applied (a second snapshot covers them).
    func compactAfterRewrite() {
        if let encryption, let index = encryption.finishedRewriteIndex, core.appliedIndex >= index {
            encryption.finishedRewriteIndex = nil
            log.rollSegment()
            logPurgeAfterRewrite = max(logPurgeAfterRewrite ?? 0, log.lastIndex)
        }
        guard let through = logPurgeAfterRewrite, core.appliedIndex >= through, halt == nil else { return }
        logPurgeAfterRewrite = nil
        guard lastSnapshotIndex >= through || takeSnapshot(keepingEntries: 0) else {
            logger.warning("rewrite finished but the snapshot failed; run `elastickv-admin cluster snapshot`")
            return
        }
        do {
            if log.firstIndex <= through {
                try log.compact(upTo: through)
                core.didCompact(through: through)
            }
            try log.removeCompactedSegments()
            try log.removeSnapshotsBeforeNewest()
            try store.checkpoint()
            logger.info("rewrite finished: log compacted, older snapshots removed, WAL truncated",
                        metadata: ["through": "\(through)"])
        } catch {
            logger.warning("rewrite finished but old files could not all be cleared; run `elastickv-admin cluster snapshot`",
                           metadata: ["error": "\(error)"])
        }
    }

    /// SAVE and BGSAVE: a snapshot of the store at the applied index now (the log is compacted behind it as
    /// after a scheduled one). Nothing applied yet: nothing to save.
    public func snapshotNow() throws(BackendError) {
        if let halt { throw .unavailable(halt) }
        guard core.appliedIndex > lastSnapshotIndex else {
            lastSnapshotUnixSeconds = Int64(Date().timeIntervalSince1970)
            publishInfo()
            return
        }
        guard takeSnapshot(keepingEntries: options.entriesKeptAfterSnapshot) else {
            throw .unavailable("the snapshot could not be written; the node's log says why")
        }
        publishInfo()
    }

    /// Removes versions no read can see any more: those shadowed by a newer one at the last commit timestamp,
    /// and deleted keys.
    ///
    /// Expired values stay until overwritten: whether a value has expired is judged in apply by each entry's
    /// proposer clock, which may run behind this node's, so removing them here could change what a later entry
    /// sees on this replica only.
    func collectGarbage() {
        do {
            guard let horizon = try machine.lastCommitTS() else { return }
            let removed = try store.collectGarbage(horizonTS: horizon, nowMillis: 0)
            if removed > 0 { logger.info("collected garbage", metadata: ["versions": "\(removed)"]) }
        } catch {
            logThrottle.warning(logger, key: "gc", "garbage collection failed; will retry",
                                metadata: ["error": "\(error)"])
        }
    }

    /// Lets reads through whose read index is applied.
    func releaseReads() {
        let applied = core.appliedIndex
        readsAwaitingApply.removeAll { pending in
            guard pending.index <= applied else { return false }
            pending.waiter.continuation.resume(returning: .success(()))
            return true
        }
    }

    /// Stops applying for good and fails every waiting request.
    func stop(_ reason: String) {
        halt = reason
        logger.critical("node stopped applying and serving", metadata: ["reason": "\(reason)"])
        let error = BackendError.unavailable(reason)
        for waiter in proposals.values { waiter.continuation.resume(returning: .failure(error)) }
        proposals.removeAll()
        for waiter in readRequests.values { waiter.continuation.resume(returning: .failure(error)) }
        readRequests.removeAll()
        for pending in readsAwaitingApply { pending.waiter.continuation.resume(returning: .failure(error)) }
        readsAwaitingApply.removeAll()
    }

    /// Answers every waiting proposal `AMBIGUOUS` once this member no longer leads the term it proposed in.
    ///
    /// Its entries may still commit under the next leader, or be replaced; this member cannot tell which
    /// before it hears from that leader, so it says so now instead of at the deadline.
    ///
    /// Reads get `TRYAGAIN` (a read has no effect to be unsure about) once the term they were issued in is
    /// over: a leader's core drops its pending reads on stepping down, and a follower's request went to a
    /// leader that is gone, so waiting for the deadline would only delay the retry.
    func failRequestsAfterLeadershipChange() {
        let stillLeading = { (term: UInt64) in self.core.role == .leader && term == self.core.term }
        if proposals.values.contains(where: { !stillLeading($0.term) }) {
            for (index, waiter) in proposals where !stillLeading(waiter.term) {
                proposals[index] = nil
                waiter.continuation.resume(returning: .failure(.leadershipLost))
            }
        }
        let over = { (waiter: ReadWaiter<UInt64>) in
            waiter.issuedAsLeader ? !stillLeading(waiter.term) : waiter.term != self.core.term
        }
        if readRequests.values.contains(where: over) {
            for (context, waiter) in readRequests where over(waiter) {
                readRequests[context] = nil
                waiter.continuation.resume(returning: .failure(.tryAgain("leadership changed before the read was confirmed; retry")))
            }
        }
    }

    /// Fails requests that waited past their deadline.
    func expireWaiters(now: ContinuousClock.Instant) {
        for (index, waiter) in proposals where waiter.deadline <= now {
            proposals[index] = nil
            waiter.continuation.resume(returning: .failure(.deadlinePassed))
        }
        for (context, waiter) in readRequests where waiter.deadline <= now {
            readRequests[context] = nil
            waiter.continuation.resume(returning: .failure(.tryAgain("read index not confirmed in time")))
        }
        readsAwaitingApply.removeAll { pending in
            guard pending.waiter.deadline <= now else { return false }
            pending.waiter.continuation.resume(returning: .failure(.tryAgain("the read was not served in time")))
            return true
        }
    }
}
