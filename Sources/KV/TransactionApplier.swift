import RESP
import Storage

/// What a read sees: the store as last applied (``KVReader``) or a transaction being applied
/// (``TransactionContext``, which sees its own writes).
public protocol KeyValueView: ElementRows, ScriptRowReader {
    /// The live value of `key` at `nowMillis`; `nil` when absent or expired.
    func lookup(_ key: [UInt8], nowMillis: UInt64) throws(StorageError) -> KVReader.Entry?
    /// Live keys at or after `start`, in byte order, at most `limit`.
    func keys(from start: [UInt8], limit: Int, nowMillis: UInt64) throws(StorageError) -> [[UInt8]]
    /// The same view, reading database `database`.
    func inDatabase(_ database: UInt8) -> Self
}

extension KVReader: KeyValueView {}

/// Runs the commands of a transaction entry (opcode 0x06) during apply. KV knows no Redis syntax, so the
/// Redis layer provides this: it parses each argument vector with the entry's clock and runs it against
/// the context, in order. It must be deterministic (no clock, no randomness that reaches the store), as
/// every replica runs it.
public protocol TransactionApplier: Sendable {
    /// The reply of each command, in order (errors included; a failing command does not stop the others).
    func apply(_ commands: [[[UInt8]]], in context: inout TransactionContext) throws(StateMachineHalt) -> [RESPValue]
}

/// The store as a transaction entry sees it while it applies: writes through ``execute(_:)`` (each with
/// its own commit timestamp), reads through ``KeyValueView`` (seeing the writes before them).
public struct TransactionContext: KeyValueView {
    var executor: CommandExecutor
    var apply: ApplyContext
    let transaction: WriteTransaction
    let proposedTS: UInt64
    public let index: UInt64
    /// The proposer's clock reading stamped in the entry.
    public var nowMillis: UInt64 { executor.nowMillis }

    /// Applies one write command, as a command entry would.
    public mutating func execute(_ command: Command) throws(StateMachineHalt) -> CommandResult {
        let ts = try apply.nextCommitTS(proposed: proposedTS, index: index)
        do throws(StorageError) { return try executor.execute(command, commitTS: ts) } catch {
            throw StateMachineHalt(index: index, cause: .storage(error))
        }
    }

    public func lookup(_ key: [UInt8], nowMillis: UInt64) throws(StorageError) -> KVReader.Entry? {
        try executor.live(key, at: nowMillis).map { KVReader.Entry(value: $0.value, expireAtMillis: $0.expireAtMillis) }
    }

    public func elementRows(of generation: UInt64, from: [UInt8], to: [UInt8]?, limit: Int) throws(StorageError)
        -> [(part: [UInt8], body: [UInt8])]
    {
        try executor.elementRows(of: generation, from: from, to: to, limit: limit)
    }

    public func elementRow(of generation: UInt64, part: [UInt8]) throws(StorageError) -> [UInt8]? {
        try executor.elementRow(of: generation, part: part)
    }

    public var elementIndexes: ElementIndexes { executor.indexes }

    public func keys(from start: [UInt8], limit: Int, nowMillis: UInt64) throws(StorageError) -> [[UInt8]] {
        let database = executor.database
        return try transaction.scan(from: RedisKeyspace.primary(start, database: database),
                                    to: RedisKeyspace.primaryEnd(database: database), nowMillis: nowMillis, limit: limit)
            .compactMap { RedisKeyspace.userKey(ofPrimary: $0.key, database: database) }
    }

    public func inDatabase(_ database: UInt8) -> TransactionContext {
        var context = self
        context.executor.database = database
        return context
    }

    /// Makes database `database` the one the transaction's next commands act on (SELECT inside MULTI).
    public mutating func select(_ database: UInt8) {
        executor.database = database
    }
}

extension KVStateMachine {
    /// Applies a transaction entry: nothing when a watched key changed (the answer is a null array), else
    /// every command in order (the answer is their replies as an array).
    func applyTransaction(_ data: [UInt8], index: UInt64, _ context: inout ApplyContext,
                          _ transaction: WriteTransaction) throws(StateMachineHalt) -> [CommandResult]
    {
        let entry: TransactionEntry
        do throws(KVError) { entry = try TransactionEntry(decoding: data) } catch {
            throw StateMachineHalt(index: index, cause: .malformedEntry(error))
        }
        guard let transactionApplier else { throw StateMachineHalt(index: index, cause: .transactionsNotConfigured) }
        for watch in entry.watches {
            let newest: StoredVersion?
            do throws(StorageError) { newest = try transaction.latestVersion(of: watch.key) } catch {
                throw StateMachineHalt(index: index, cause: .storage(error))
            }
            if watch.changed(newestCommitTS: newest?.commitTS, nowMillis: entry.nowMillis) {
                return [.reply(.nullArray)]
            }
        }
        var transactionContext = TransactionContext(
            executor: CommandExecutor(transaction: transaction, nowMillis: entry.nowMillis, maxValueBytes: maxValueBytes,
                                      indexes: elementIndexes),
            apply: context, transaction: transaction, proposedTS: entry.proposedTS, index: index)
        let replies = try transactionApplier.apply(entry.commands, in: &transactionContext)
        context = transactionContext.apply
        return [.reply(.array(replies))]
    }
}
