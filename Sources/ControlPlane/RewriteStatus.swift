import ElastickvAPI
import Encryption

/// The rewrite of stored versions under the active storage DEK, as one replica applied it (`rewrite-status`).
public struct RewriteStatus: Sendable, Hashable {
    /// Where the run stands.
    public enum State: String, Sendable, Hashable {
        /// No rewrite ever ran.
        case none
        /// Chunks are still being committed.
        case running
        /// The last chunk applied.
        case finished
    }

    public var state: State
    /// The DEK the run re-seals under; `nil` with ``State/none``.
    public var targetKeyID: KeyID?
    /// The active storage DEK now; a finished run under another key is out of date (a rotation came later).
    public var activeStorageKeyID: KeyID?
    public var rowsPerSecond: UInt32
    /// Rows the run's chunks covered so far.
    public var examinedRows: UInt64
    /// Versions this replica re-sealed.
    public var resealedRows: UInt64
    /// Versions this replica stores now.
    public var totalRows: UInt64
    /// Versions this replica stores in cleartext or under another DEK than the active one.
    public var remainingRows: UInt64
    public var startedIndex: UInt64
    /// 0 while running.
    public var finishedIndex: UInt64

    public init(state: State, targetKeyID: KeyID?, activeStorageKeyID: KeyID?, rowsPerSecond: UInt32,
                examinedRows: UInt64, resealedRows: UInt64, totalRows: UInt64, remainingRows: UInt64,
                startedIndex: UInt64, finishedIndex: UInt64) {
        self.state = state
        self.targetKeyID = targetKeyID
        self.activeStorageKeyID = activeStorageKeyID
        self.rowsPerSecond = rowsPerSecond
        self.examinedRows = examinedRows
        self.resealedRows = resealedRows
        self.totalRows = totalRows
        self.remainingRows = remainingRows
        self.startedIndex = startedIndex
        self.finishedIndex = finishedIndex
    }

    /// Whether the run finished under the DEK that is active now: nothing it covered needs re-sealing.
    public var isComplete: Bool { state == .finished && targetKeyID != nil && targetKeyID == activeStorageKeyID }
}

extension Elastickv_V1_RewriteStatusResponse {
    public init(_ status: RewriteStatus) {
        self.init()
        state = status.state.rawValue
        targetKeyID = status.targetKeyID ?? 0
        activeStorageKeyID = status.activeStorageKeyID ?? 0
        rowsPerSecond = status.rowsPerSecond
        rowsExamined = status.examinedRows
        rowsResealed = status.resealedRows
        totalRows = status.totalRows
        remainingRows = status.remainingRows
        startedIndex = status.startedIndex
        finishedIndex = status.finishedIndex
    }
}

extension RewriteStatus {
    /// Decodes a `RewriteStatus` answer.
    ///
    /// - Throws: `EncryptionWireError.unknownRewriteState` for a state other than none, running or finished,
    ///   and `zeroKeyID` for a running or finished run without a target.
    public init(_ wire: Elastickv_V1_RewriteStatusResponse) throws(EncryptionWireError) {
        guard let state = State(rawValue: wire.state) else { throw .unknownRewriteState(wire.state) }
        guard state == .none || wire.targetKeyID != 0 else { throw .zeroKeyID(field: "target_key_id") }
        self.init(
            state: state, targetKeyID: EncryptionWire.optionalKeyID(wire.targetKeyID),
            activeStorageKeyID: EncryptionWire.optionalKeyID(wire.activeStorageKeyID),
            rowsPerSecond: wire.rowsPerSecond, examinedRows: wire.rowsExamined, resealedRows: wire.rowsResealed,
            totalRows: wire.totalRows, remainingRows: wire.remainingRows, startedIndex: wire.startedIndex,
            finishedIndex: wire.finishedIndex)
    }
}
