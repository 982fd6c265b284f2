import Foundation
import KV
import RESP
import RedisCommands
import Server
import Storage

/// A single-process backend for adapter tests: applies commands straight to a state machine (no Raft).
actor LocalBackend: RedisBackend {
    let store: MVCCStore
    let machine: KVStateMachine
    let evaluator: ReadEvaluator<KVReader>
    var index: UInt64 = 0

    init(path: String) throws {
        store = try MVCCStore(path: path)
        machine = KVStateMachine(store: store)
        machine.transactionApplier = RedisTransactionApplier(maxValueBytes: machine.maxValueBytes)
        evaluator = ReadEvaluator(reader: KVReader(store: store), cursors: ScanCursors())
    }

    nonisolated let applied = ApplySignal()
    nonisolated let scripts = RunningScripts()

    nonisolated func keys(_ keys: [[UInt8]], holding type: String, database: UInt8) -> [[UInt8]] {
        let reader = evaluator.reader.inDatabase(database)
        return keys.filter { key in (try? reader.lookup(key, nowMillis: nowMillis()))??.value.typeName == type }
    }

    func execute(_ command: Command) async throws(BackendError) -> CommandResult {
        defer { applied.bump() }
        index += 1
        let now = nowMillis()
        let entry = CommandEntry(proposedTS: now * 1000, nowMillis: now, commands: [command])
        let outcome = machine.apply([CommittedEntry(index: index, term: 1, data: entry.encoded())])
        if let halt = outcome.halt { throw .unavailable(halt.description) }
        return outcome.results[index]![0]
    }

    func watch(_ keys: [[UInt8]], database: UInt8) async throws(BackendError) -> [TransactionEntry.Watch] {
        do throws(StorageError) {
            return try keys.map { (key) throws(StorageError) in
                TransactionEntry.Watch(key: RedisKeyspace.primary(key, database: database),
                                       newest: try evaluator.reader.inDatabase(database).newestVersion(of: key),
                                       nowMillis: nowMillis())
            }
        } catch {
            throw .unavailable(error.description)
        }
    }

    func execute(_ transaction: TransactionEntry) async throws(BackendError) -> [RESPValue]? {
        defer { applied.bump() }
        index += 1
        let entry = transaction.stamped(nowMillis: nowMillis())
        let outcome = machine.apply([CommittedEntry(index: index, term: 1, data: entry.encoded())])
        if let halt = outcome.halt { throw .unavailable(halt.description) }
        guard let replies = TransactionEntry.replies(from: outcome.results[index]!) else {
            throw .unavailable("not a transaction answer")
        }
        return replies
    }

    func read(_ command: ReadCommand) async throws(BackendError) -> RESPValue {
        try readLocal(command)
    }

    nonisolated func nowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    nonisolated func info() -> String { "# Server\r\nredis_version:7.2.0\r\n" }

    nonisolated func readLocal(_ command: ReadCommand) throws(BackendError) -> RESPValue {
        do throws(StorageError) { return try evaluator.evaluate(command, nowMillis: nowMillis()) } catch {
            throw .unavailable(error.description)
        }
    }

    /// One member: it leads, and every applied entry is its own snapshot-free state.
    nonisolated func serverState() -> NodeServerState {
        NodeServerState(isLeader: true, commitIndex: 0, appliedIndex: 0, lastSnapshotUnixSeconds: 1_700_000_000)
    }

    /// Nothing to snapshot without a log: the store is the whole state.
    func snapshot() async throws(BackendError) {}
}
