import DurableIO
import Encryption
import Storage

/// The replicated state of the rewrite of stored versions under the active storage DEK (DESIGN §4 "Rewrite"),
/// and how a rewrite-chunk entry changes it on a replica.
///
/// The run's progress is a cursor in `rewrite_cursors` (name ``cursorName``: the last row a committed chunk
/// covered) and this record in `internal_meta` (``metaName``), both written in the apply transaction, so a
/// crash of every node, or a new leader, resumes exactly after the last committed chunk. Record layout
/// (docs/formats.md "Rewrite state"): `version 0x01 ‖ target u32 ‖ finished u8 ‖ rows_per_second u32 ‖
/// examined u64 ‖ resealed u64 ‖ started_index u64 ‖ finished_index u64`.
public struct StorageRewrite: Sendable, Hashable {
    public static let metaName = "rewrite.storage"
    public static let cursorName = "storage"
    static let recordVersion: UInt8 = 1
    static let recordByteCount = 1 + 4 + 1 + 4 + 8 + 8 + 8 + 8

    /// The storage DEK the run re-seals under.
    public var targetKeyID: KeyID
    /// Whether the last chunk applied.
    public var isFinished: Bool
    /// The run's rate limit.
    public var rowsPerSecond: UInt32
    /// Rows the leader examined so far (the same on every replica).
    public var examinedRows: UInt64
    /// Versions this replica re-sealed so far.
    public var resealedRows: UInt64
    /// The index of the run's first chunk.
    public var startedIndex: UInt64
    /// The index of its last chunk; 0 while it runs.
    public var finishedIndex: UInt64
    /// The last row a committed chunk covered; `nil` before the first chunk and after the last.
    public var cursor: RowPosition?

    public init(targetKeyID: KeyID, isFinished: Bool, rowsPerSecond: UInt32, examinedRows: UInt64,
                resealedRows: UInt64, startedIndex: UInt64, finishedIndex: UInt64, cursor: RowPosition?) {
        self.targetKeyID = targetKeyID
        self.isFinished = isFinished
        self.rowsPerSecond = rowsPerSecond
        self.examinedRows = examinedRows
        self.resealedRows = resealedRows
        self.startedIndex = startedIndex
        self.finishedIndex = finishedIndex
        self.cursor = cursor
    }

    /// The run as last committed in `store`; `nil` when no rewrite ever ran.
    ///
    /// - Throws: the store's error, or ``StorageError/corruptRecord(reason:)`` for a record that does not parse.
    public static func load(from store: MVCCStore) throws(StorageError) -> StorageRewrite? {
        guard let bytes = try store.meta(metaName) else { return nil }
        return try decode(bytes, cursor: try store.rewriteCursor(cursorName))
    }

    static func load(from transaction: WriteTransaction) throws(StorageError) -> StorageRewrite? {
        guard let bytes = try transaction.meta(metaName) else { return nil }
        return try decode(bytes, cursor: try transaction.rewriteCursor(cursorName))
    }

    static func decode(_ bytes: [UInt8], cursor: RowPosition?) throws(StorageError) -> StorageRewrite {
        guard bytes.count == recordByteCount, bytes[0] == recordVersion, bytes[5] <= 1, bytes[1..<5].contains(where: { $0 != 0 })
        else {
            throw StorageError.corruptRecord(
                reason: "the rewrite state record is not version 1 of \(recordByteCount) bytes with a target key")
        }
        var reader = BigEndianReader(bytes, from: 1)
        do throws(BigEndianReader.Truncated) {
            let target: UInt32 = try reader.read()
            let finished: UInt8 = try reader.read()
            return StorageRewrite(
                targetKeyID: target, isFinished: finished == 1, rowsPerSecond: try reader.read(),
                examinedRows: try reader.read(), resealedRows: try reader.read(), startedIndex: try reader.read(),
                finishedIndex: try reader.read(), cursor: cursor)
        } catch {
            preconditionFailure("the record's length was checked: \(error)")
        }
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.recordVersion]
        bytes.appendBigEndian(targetKeyID)
        bytes.append(isFinished ? 1 : 0)
        bytes.appendBigEndian(rowsPerSecond)
        bytes.appendBigEndian(examinedRows)
        bytes.appendBigEndian(resealedRows)
        bytes.appendBigEndian(startedIndex)
        bytes.appendBigEndian(finishedIndex)
        return bytes
    }

    /// Applies a current rewrite chunk (its target is the active storage DEK) at `index` in `transaction`.
    ///
    /// - Returns: the run after the chunk, or `nil` when the chunk does not continue the stored run (it
    ///   continues from another cursor, or the run is finished or has another target): it then has no effect.
    public static func apply(_ chunk: EncryptionEntry.RewriteChunk, index: UInt64, in transaction: WriteTransaction)
        throws(StorageError) -> StorageRewrite?
    {
        var run: StorageRewrite
        if chunk.start == nil {
            run = StorageRewrite(targetKeyID: chunk.targetKeyID, isFinished: false, rowsPerSecond: chunk.rowsPerSecond,
                                 examinedRows: 0, resealedRows: 0, startedIndex: index, finishedIndex: 0, cursor: nil)
        } else {
            guard let stored = try load(from: transaction), !stored.isFinished,
                  stored.targetKeyID == chunk.targetKeyID, stored.cursor == chunk.start.map(RowPosition.init)
            else { return nil }
            run = stored
        }
        let (_, resealed) = try transaction.resealVersions(
            after: chunk.start.map(RowPosition.init), through: chunk.end.map(RowPosition.init),
            keeping: chunk.targetKeyID)
        run.rowsPerSecond = chunk.rowsPerSecond
        run.examinedRows &+= UInt64(chunk.examinedRows)
        run.resealedRows &+= UInt64(resealed)
        run.cursor = chunk.end.map(RowPosition.init)
        if chunk.isLast {
            run.isFinished = true
            run.finishedIndex = index
        }
        try transaction.setMeta(metaName, value: run.encoded())
        try transaction.setRewriteCursor(cursorName, run.cursor)
        return run
    }
}

extension RowPosition {
    public init(_ position: EncryptionEntry.RowPosition) {
        self.init(key: position.key, ts: position.ts)
    }
}

extension EncryptionEntry.RowPosition {
    public init(_ position: RowPosition) {
        self.init(key: position.key, ts: position.ts)
    }
}
