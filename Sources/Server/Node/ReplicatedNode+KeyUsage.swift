import ControlPlane
import Encryption
import Raft
import Storage

/// What on this node still needs each DEK (`encryption key-usage`, the checks of `retire-dek`), and making the
/// log let go of old entries (`cluster snapshot`).
extension ReplicatedNode {
    public func keyUsage() async throws(EncryptionControlError) -> KeyUsageReport {
        guard let sidecar = encryption?.applier.sidecar else {
            return KeyUsageReport(nodeName: identity.name, snapshotIndex: lastSnapshotIndex,
                                  logFirstIndex: core.firstIndex, logLastIndex: core.lastIndex, keys: [])
        }
        let stored: [UInt32: Int]
        let inSnapshot: [UInt32: Int]
        let snapshot: Snapshot
        do {
            stored = try store.sealedVersionCounts()
            snapshot = try log.snapshot()
            inSnapshot = snapshot.data.isEmpty ? [:] : try MVCCStore.sealedVersionCounts(inSnapshot: snapshot.data)
        } catch {
            throw .unavailable("the store or the newest snapshot cannot be read: \(error)")
        }
        let inLog = raftKeyEntryCounts()
        let keys = sidecar.keys.keys.sorted().map { id in
            let purpose = sidecar.keys[id]!.purpose
            return KeyUsageReport.Key(
                keyID: id, purpose: purpose, isActive: sidecar.activeKeyIDs[purpose] == id,
                storedVersions: UInt64(stored[id] ?? 0), logEntries: UInt64(inLog[id] ?? 0),
                snapshotVersions: UInt64(inSnapshot[id] ?? 0))
        }
        return KeyUsageReport(nodeName: identity.name, snapshotIndex: snapshot.metadata.index,
                              logFirstIndex: core.firstIndex, logLastIndex: core.lastIndex, keys: keys)
    }

    /// How many entries of this node's log each raft DEK seals (none before the cut-over).
    func raftKeyEntryCounts() -> [KeyID: Int] {
        guard let cutover = encryption?.raftCutover.cutoverIndex else { return [:] }
        let first = max(core.firstIndex, cutover + 1)
        guard core.lastIndex >= first else { return [:] }
        var counts: [KeyID: Int] = [:]
        for index in first...core.lastIndex {
            guard let entry = core.logEntry(at: index), entry.kind == .normal, let id = Self.envelopeKeyID(entry.data)
            else { continue }
            counts[id, default: 0] += 1
        }
        return counts
    }

    /// The raft DEKs that seal entries still in this node's log, ascending.
    func raftKeyIDsInLog() -> [KeyID] {
        raftKeyEntryCounts().keys.sorted()
    }

    public func snapshotAndCompact() async throws(ClusterControlError) -> UInt64 {
        if let halt { throw .rejected("the node stopped applying: \(halt)") }
        // After a restart the store can be ahead of what the core has applied again (the commit index is
        // persisted lazily); a snapshot must wait until the core caught up with it.
        let deadline = ContinuousClock.now + .seconds(10)
        while let stored = try? store.appliedIndex(), stored > core.appliedIndex, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if core.appliedIndex > lastSnapshotIndex, !takeSnapshot(keepingEntries: 0) {
            let stored = (try? store.appliedIndex()).map(String.init) ?? "unknown"
            throw .rejected("the snapshot could not be written (applied index \(core.appliedIndex), store at \(stored), "
                + "last snapshot \(lastSnapshotIndex)); the node's log says why")
        }
        purgeLogFiles(after: log.lastIndex)
        return lastSnapshotIndex
    }

    /// Makes every file of the log and of older snapshots let go of the entries up to `through` once they
    /// applied: the log rolls to a new segment now (entries appended later never share a file with them), and
    /// ``compactAfterRewrite()`` compacts, deletes the old segments and snapshots and truncates the WAL.
    func purgeLogFiles(after through: UInt64) {
        log.rollSegment()
        logPurgeAfterRewrite = max(logPurgeAfterRewrite ?? 0, through)
        compactAfterRewrite()
    }
}
