import ControlPlane
import Encryption
import KV
import Storage

/// The rewrite of stored versions under the active storage DEK (DESIGN §4 "Rewrite"), on the leader.
///
/// The run lives in the store (``StorageRewrite``): whichever node leads proposes the next chunk after the
/// replicated cursor, so a leader change or a crash of every node resumes after the last committed chunk. A
/// rotation during the run restarts it from the first row under the new DEK (versions re-sealed under the
/// previous DEK need it again). Chunks go through the one-mutator-at-a-time rule like every encryption entry,
/// so they never land behind a pending cut-over.
extension ReplicatedNode {
    /// The most rows one chunk covers: small enough that applying it (re-sealing up to this many versions in
    /// one transaction) holds user writes back by a few milliseconds at most.
    static let rewriteChunkRows = 256
    /// The rate when `encryption rewrite` gives none.
    public static let defaultRewriteRowsPerSecond: UInt32 = 2_000

    public func startRewrite(rowsPerSecond: UInt32?) async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in
            let encryption = try requireEncryptionLeader()
            guard let sidecar = encryption.applier.sidecar, sidecar.storageEnvelopeActive,
                  let target = sidecar.activeKeyIDs[.storage]
            else {
                throw .refused("the storage envelope is not on; run `encryption enable-storage-envelope` first")
            }
            if let run = try loadRewrite(), !run.isFinished, run.targetKeyID == target {
                return EncryptionChange(index: run.startedIndex, summary: "a rewrite under storage DEK \(target) is "
                    + "already running (\(run.examinedRows) rows done); follow it with `encryption rewrite-status`")
            }
            let rate = rowsPerSecond ?? Self.defaultRewriteRowsPerSecond
            let (index, rows) = try await proposeRewriteChunk(target: target, rowsPerSecond: rate, after: nil)
            logger.notice("rewrite started", metadata: ["target": "\(target)", "rate": "\(rate)", "index": "\(index)"])
            return EncryptionChange(index: index, summary: "rewrite under storage DEK \(target) started at \(rate) "
                + "rows/s (\(rows) rows in the first chunk)")
        }
    }

    public func rewriteStatus() async throws(EncryptionControlError) -> RewriteStatus {
        let active = encryption?.applier.sidecar?.activeKeyIDs[.storage]
        do throws(StorageError) {
            let run = try StorageRewrite.load(from: store)
            let remaining = active == nil ? 0 : try store.countVersionsNeedingReseal(keeping: active!)
            let state: RewriteStatus.State = run == nil ? .none : run!.isFinished ? .finished : .running
            return RewriteStatus(
                state: state, targetKeyID: run?.targetKeyID, activeStorageKeyID: active,
                rowsPerSecond: run?.rowsPerSecond ?? 0, examinedRows: run?.examinedRows ?? 0,
                resealedRows: run?.resealedRows ?? 0, totalRows: UInt64(try store.versionCount()),
                remainingRows: UInt64(remaining), startedIndex: run?.startedIndex ?? 0,
                finishedIndex: run?.finishedIndex ?? 0)
        } catch {
            throw .unavailable("the store cannot be read: \(error)")
        }
    }

    /// Proposes the next chunk of a running rewrite when this node leads; returns how long to wait before the
    /// next step (the rate limit), or `nil` when there is nothing to do.
    func advanceRewrite() async -> Duration? {
        guard halt == nil, core.role == .leader, let sidecar = encryption?.applier.sidecar,
              sidecar.storageEnvelopeActive, let target = sidecar.activeKeyIDs[.storage],
              let run = try? loadRewrite(), !run.isFinished
        else { return nil }
        do {
            return try await exclusively(busy: EncryptionControlError.retryable("busy")) {
                () async throws(EncryptionControlError) -> Duration in
                // Read again inside: another leader's chunk may have applied while this one waited.
                guard let current = try loadRewrite(), !current.isFinished else { return .zero }
                if current.targetKeyID != target {
                    logger.notice("rewrite restarted under the new storage DEK", metadata: [
                        "previous": "\(current.targetKeyID)", "target": "\(target)",
                    ])
                    _ = try await proposeRewriteChunk(target: target, rowsPerSecond: current.rowsPerSecond, after: nil)
                    return .zero
                }
                let (_, rows) = try await proposeRewriteChunk(
                    target: target, rowsPerSecond: current.rowsPerSecond, after: current.cursor)
                return .milliseconds(Int64(rows) * 1000 / Int64(max(current.rowsPerSecond, 1)))
            }
        } catch {
            logThrottle.warning(logger, key: "rewrite", "rewrite chunk not committed; retrying",
                                metadata: ["error": "\(error)"])
            return .milliseconds(500)
        }
    }

    /// Proposes the chunk after `cursor` (from the first row when `nil`) and waits until it applied here.
    ///
    /// - Returns: the entry's index and how many rows the chunk covers on this node.
    func proposeRewriteChunk(target: KeyID, rowsPerSecond: UInt32, after cursor: RowPosition?) async
        throws(EncryptionControlError) -> (UInt64, Int)
    {
        let rows: [RowPosition]
        do throws(StorageError) {
            rows = try store.rowPositions(after: cursor, limit: Self.rewriteChunkRows)
        } catch {
            throw .unavailable("the store cannot be read: \(error)")
        }
        let end = rows.count == Self.rewriteChunkRows ? rows.last : nil
        let chunk = EncryptionEntry.RewriteChunk(
            targetKeyID: target, rowsPerSecond: max(rowsPerSecond, 1), examinedRows: UInt32(rows.count),
            start: cursor.map(EncryptionEntry.RowPosition.init), end: end.map(EncryptionEntry.RowPosition.init))
        let index = try await proposeEncryptionEntry(.rewriteChunk(chunk))
        if end == nil {
            logger.notice("rewrite's last chunk committed", metadata: ["target": "\(target)", "index": "\(index)"])
        }
        return (index, rows.count)
    }

    func loadRewrite() throws(EncryptionControlError) -> StorageRewrite? {
        do throws(StorageError) { return try StorageRewrite.load(from: store) } catch {
            throw .unavailable("the rewrite state cannot be read: \(error)")
        }
    }
}
