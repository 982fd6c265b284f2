import DurableIO
import Encryption
import Storage

/// The replicated key-value state machine: applies committed entries to the MVCC store, deterministically.
///
/// Every input of apply comes from the log: commit timestamps are the proposer's, raised so that they
/// strictly increase; TTL decisions use the proposer's clock reading stamped in the entry. A batch of
/// entries is one store transaction, and the applied index is written in it. Each entry runs in a savepoint:
/// when one halts, the entries before it commit and the applied index stops just before it.
public final class KVStateMachine {
    public let store: MVCCStore
    /// Routes opcodes 0x03–0x05; without it those entries halt apply.
    public var encryptionApplier: (any EncryptionEntryApplier)?
    /// Runs opcode 0x06 (MULTI/EXEC); without it those entries halt apply.
    public var transactionApplier: (any TransactionApplier)?
    /// The longest string APPEND and SETRANGE may build (`--max-value-bytes`). Every replica must use the
    /// same value, or they answer those commands differently.
    public var maxValueBytes: Int
    /// The element indexes of collections (the index key, when encryption is configured).
    public var elementIndexes: ElementIndexes

    static let lastCommitTSName = "last_commit_ts"

    public init(store: MVCCStore, encryptionApplier: (any EncryptionEntryApplier)? = nil) {
        self.store = store
        self.encryptionApplier = encryptionApplier
        maxValueBytes = store.limits.maxValueBytes
        elementIndexes = (encryptionApplier as? KVEncryption)?.elementIndexes ?? ElementIndexes()
    }

    /// The layout of Redis keys in `kv_versions` this version writes (docs/formats.md §2a).
    public static let keyspaceFormat: UInt8 = 2
    static let keyspaceFormatName = "keyspace_format"

    /// Records ``keyspaceFormat`` in a new store, and refuses a store whose rows were written with another
    /// layout: its keys would silently look missing. Snapshots carry the record with the rest of the
    /// internal state.
    ///
    /// - Throws: ``KVError/corruptValue(_:)`` naming the problem; ``StorageError`` when the store fails.
    public static func adoptKeyspaceFormat(_ store: MVCCStore) throws -> Void {
        if let recorded = try store.meta(keyspaceFormatName) {
            guard recorded == [keyspaceFormat] else {
                throw KVError.corruptValue("the store's keys use layout \(recorded.first.map(String.init) ?? "?"), "
                    + "this version reads layout \(keyspaceFormat) only")
            }
            return
        }
        guard try store.scan(from: [], to: nil, nowMillis: 0, limit: 1).isEmpty else {
            throw KVError.corruptValue("the store holds keys written before keyspace layout \(keyspaceFormat) "
                + "(an older elastickv), which this version cannot read; start from an empty data directory")
        }
        try store.write { (transaction) throws(StorageError) in
            try transaction.setMeta(keyspaceFormatName, value: [keyspaceFormat])
        }
    }

    /// The commit timestamp of the last applied command; `nil` before the first.
    public func lastCommitTS() throws(StorageError) -> UInt64? {
        try store.meta(Self.lastCommitTSName).flatMap { UInt64(bigEndianBytes: $0) }
    }

    /// What one call to ``apply(_:)`` did.
    public struct Outcome: Sendable {
        /// The applied index after the call.
        public var appliedIndex: UInt64
        /// The answers of the commands of each applied command entry, by entry index.
        public var results: [UInt64: [CommandResult]]
        /// Set when apply stopped at an entry; the entries before it are applied.
        public var halt: StateMachineHalt?
    }

    /// Applies committed entries in order; entries at or below the applied index are skipped (replay).
    ///
    /// - Returns: the outcome; check ``Outcome/halt``. A storage failure of the transaction itself is
    ///   returned as a halt at the first entry of the batch, with nothing applied.
    public func apply(_ entries: [CommittedEntry]) -> Outcome {
        var results: [UInt64: [CommandResult]] = [:]
        var halt: StateMachineHalt?
        do throws(StorageError) {
            let applied = try store.write { (transaction) throws(StorageError) -> UInt64 in
                var context = try ApplyContext(transaction: transaction)
                let startIndex = context.appliedIndex
                for entry in entries where entry.index > context.appliedIndex {
                    guard entry.index == context.appliedIndex + 1 else {
                        halt = StateMachineHalt(index: entry.index, cause: .gap(appliedIndex: context.appliedIndex))
                        break
                    }
                    let before = context
                    do throws(StateMachineHalt) {
                        results[entry.index] = try transaction.withSavepointHalting(index: entry.index) {
                            () throws(StateMachineHalt) in try applyEntry(entry, &context, transaction)
                        }
                        context.appliedIndex = entry.index
                    } catch {
                        context = before
                        halt = error
                        break
                    }
                }
                if context.appliedIndex > startIndex {
                    try transaction.setAppliedIndex(context.appliedIndex)
                    var timestamp: [UInt8] = []
                    timestamp.appendBigEndian(context.lastCommitTS)
                    try transaction.setMeta(Self.lastCommitTSName, value: timestamp)
                }
                return context.appliedIndex
            }
            return Outcome(appliedIndex: applied, results: results, halt: halt)
        } catch {
            let first = entries.first?.index ?? 0
            return Outcome(appliedIndex: (try? store.appliedIndex()) ?? 0, results: [:],
                           halt: StateMachineHalt(index: first, cause: .storage(error)))
        }
    }

    private func applyEntry(_ entry: CommittedEntry, _ context: inout ApplyContext,
                            _ transaction: WriteTransaction) throws(StateMachineHalt) -> [CommandResult]
    {
        guard !entry.data.isEmpty else { return [] }
        var data = entry.data
        if let encryptionApplier {
            do throws(ApplyHalt) { data = try encryptionApplier.unwrapPayload(data, index: entry.index) } catch {
                throw StateMachineHalt(index: entry.index, cause: .encryption(error))
            }
            // An opened raft envelope is shorter than the entry by exactly its overhead; its key id follows the
            // version and flag bytes. Counting it here counts each committed seal once on every replica.
            if data.count != entry.data.count, let keyID = UInt32(bigEndianBytes: entry.data[2..<6]) {
                transaction.recordSeals(under: keyID)
            }
        }
        let opcodeByte = data[0]
        guard let opcode = Opcode(rawValue: opcodeByte) else {
            throw StateMachineHalt(index: entry.index, cause: .unsupportedOpcode(opcodeByte))
        }
        switch opcode {
        case .command, .batch:
            let decoded: CommandEntry
            do throws(KVError) { decoded = try CommandEntry(decoding: data) } catch {
                throw StateMachineHalt(index: entry.index, cause: .malformedEntry(error))
            }
            var executor = CommandExecutor(transaction: transaction, nowMillis: decoded.nowMillis,
                                           maxValueBytes: maxValueBytes, indexes: elementIndexes)
            var results: [CommandResult] = []
            for command in decoded.commands {
                let ts = try context.nextCommitTS(proposed: decoded.proposedTS, index: entry.index)
                do throws(StorageError) { results.append(try executor.execute(command, commitTS: ts)) } catch {
                    throw StateMachineHalt(index: entry.index, cause: .storage(error))
                }
            }
            return results
        case .writerRegistration, .encryptionBootstrap, .keyManagement:
            guard let encryptionApplier else {
                throw StateMachineHalt(index: entry.index, cause: .encryptionNotConfigured)
            }
            do throws(ApplyHalt) {
                try encryptionApplier.applyEncryptionEntry(data, index: entry.index, transaction: transaction)
            } catch {
                throw StateMachineHalt(index: entry.index, cause: .encryption(error))
            }
            return []
        case .transaction:
            return try applyTransaction(data, index: entry.index, &context, transaction)
        case .clock:
            throw StateMachineHalt(index: entry.index, cause: .unsupportedOpcode(opcodeByte))
        }
    }
}

/// Apply-wide state carried across the entries of one batch.
struct ApplyContext {
    var appliedIndex: UInt64
    var lastCommitTS: UInt64

    init(transaction: WriteTransaction) throws(StorageError) {
        appliedIndex = try transaction.appliedIndex()
        lastCommitTS = try transaction.meta(KVStateMachine.lastCommitTSName).flatMap { UInt64(bigEndianBytes: $0) } ?? 0
    }

    /// The commit timestamp of the next command: the proposer's, raised above every earlier one.
    mutating func nextCommitTS(proposed: UInt64, index: UInt64) throws(StateMachineHalt) -> UInt64 {
        let ts = max(proposed, lastCommitTS + 1)
        guard ts <= MVCCStore.latestTS else {
            throw StateMachineHalt(index: index, cause: .timestampSpaceExhausted)
        }
        lastCommitTS = ts
        return ts
    }
}

extension WriteTransaction {
    /// Runs `body` in a savepoint, mapping savepoint failures to a halt at `index`.
    func withSavepointHalting<Result>(
        index: UInt64, _ body: () throws(StateMachineHalt) -> Result
    ) throws(StateMachineHalt) -> Result {
        var halt: StateMachineHalt?
        var result: Result?
        do throws(StorageError) {
            result = try withSavepoint { () throws(StorageError) -> Result? in
                do throws(StateMachineHalt) { return try body() } catch {
                    halt = error
                    throw StorageError.corruptRecord(reason: "entry halted")
                }
            }
        } catch {
            throw halt ?? StateMachineHalt(index: index, cause: .storage(error))
        }
        return result!
    }
}
