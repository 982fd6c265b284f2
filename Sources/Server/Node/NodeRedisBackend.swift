import Foundation
import KV
import RESP
import RedisCommands
import Storage

/// Serves Redis requests from a ``ReplicatedNode``: writes are proposed through Raft, reads wait for a
/// linearizable read barrier and then read the local store.
public struct NodeRedisBackend: RedisBackend {
    let node: ReplicatedNode
    let evaluator: ReadEvaluator<KVReader>
    /// Concurrent writes leave together, as one batch entry.
    let batcher: ProposalBatcher
    /// Concurrent reads share one read barrier.
    let reads: ReadBarrierBatcher
    let serverInfo: @Sendable () -> String
    public let scripts = RunningScripts()
    /// Whether Redis reads may be answered under the leader lease (`--lease-reads`) instead of ReadIndex.
    let leaseReads: Bool

    public init(node: ReplicatedNode, store: MVCCStore, leaseReads: Bool = false, metrics: MetricsRegistry? = nil,
                serverInfo: @escaping @Sendable () -> String) {
        self.node = node
        evaluator = ReadEvaluator(reader: KVReader(store: store, elementIndexes: node.elementIndexes),
                                  cursors: ScanCursors(), scripts: scripts)
        self.leaseReads = leaseReads
        self.serverInfo = serverInfo
        batcher = ProposalBatcher(metrics: metrics, nowMillis: Self.wallClockMillis) { [node] payload throws(BackendError) in
            try await node.propose(payload)
        }
        reads = ReadBarrierBatcher(metrics: metrics) { [node] () throws(BackendError) in
            try await node.readBarrier()
        }
    }

    public func execute(_ command: Command) async throws(BackendError) -> CommandResult {
        try await batcher.execute(command)
    }

    public var applied: ApplySignal { node.applied }

    public func keys(_ keys: [[UInt8]], holding type: String, database: UInt8) -> [[UInt8]] {
        let now = nowMillis()
        let reader = evaluator.reader.inDatabase(database)
        return keys.filter { key in (try? reader.lookup(key, nowMillis: now))??.value.typeName == type }
    }

    public func read(_ command: ReadCommand) async throws(BackendError) -> RESPValue {
        try await read(command, lease: leaseReads)
    }

    /// Answers a read after a read barrier; `lease` lets the leader skip the heartbeat round.
    public func read(_ command: ReadCommand, lease: Bool) async throws(BackendError) -> RESPValue {
        // A lease read needs no quorum round to share; the others share one.
        if lease { try await node.readBarrier(lease: true) } else { try await reads.wait() }
        if Self.runsScript(command) {
            let now = nowMillis()
            // A script may run for up to its instruction budget: off the cooperative threads, so it never holds
            // one (SCRIPT KILL and every other client keep being served).
            let evaluator = evaluator
            let result: Result<RESPValue, StorageError> = await withCheckedContinuation { continuation in
                Self.scriptQueue.async {
                    continuation.resume(returning: Result { () throws(StorageError) in try evaluator.evaluate(command, nowMillis: now) })
                }
            }
            do throws(StorageError) { return try result.get() } catch { throw .unavailable(error.description) }
        }
        return try readLocal(command)
    }

    /// Where read-only scripts run (EVAL_RO, EVALSHA_RO, FCALL_RO).
    static let scriptQueue = DispatchQueue(label: "elastickv.read-only-scripts", attributes: .concurrent)

    static func runsScript(_ command: ReadCommand) -> Bool {
        switch command {
        case .inDatabase(_, let inner): return runsScript(inner)
        case .script(.run): return true
        default: return false
        }
    }

    public func watch(_ keys: [[UInt8]], database: UInt8) async throws(BackendError) -> [TransactionEntry.Watch] {
        try await reads.wait()
        let now = nowMillis()
        do throws(StorageError) {
            return try keys.map { (key) throws(StorageError) in
                TransactionEntry.Watch(key: RedisKeyspace.primary(key, database: database),
                                       newest: try evaluator.reader.inDatabase(database).newestVersion(of: key),
                                       nowMillis: now)
            }
        } catch {
            throw .unavailable(error.description)
        }
    }

    public func execute(_ transaction: TransactionEntry) async throws(BackendError) -> [RESPValue]? {
        let payload = transaction.stamped(nowMillis: nowMillis()).encoded()
        // Every replica must decode what is proposed, or apply halts: check it here, where it can be refused.
        do throws(KVError) { _ = try TransactionEntry(decoding: payload) } catch {
            throw .refused("the transaction exceeds the limits of one Raft entry: \(error)")
        }
        guard let replies = TransactionEntry.replies(from: try await node.propose(payload)) else {
            throw .unavailable("the transaction entry was answered with something other than its replies")
        }
        return replies
    }

    public func nowMillis() -> UInt64 { Self.wallClockMillis() }

    @Sendable static func wallClockMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    public func info() -> String { serverInfo() }

    /// The store as this node applied it, without a barrier (``read(_:lease:)`` after its barrier, INFO …).
    public func readLocal(_ command: ReadCommand) throws(BackendError) -> RESPValue {
        do throws(StorageError) { return try evaluator.evaluate(command, nowMillis: nowMillis()) } catch {
            throw .unavailable(error.description)
        }
    }

    public func serverState() -> NodeServerState {
        let reading = node.info.reading
        return NodeServerState(isLeader: reading.role == "leader", commitIndex: reading.commitIndex,
                               appliedIndex: reading.appliedIndex, lastLogIndex: reading.lastLogIndex,
                               replicaMatchIndexes: reading.replicaMatchIndexes,
                               snapshotIndex: reading.snapshotIndex,
                               lastSnapshotUnixSeconds: reading.lastSnapshotUnixSeconds)
    }

    public func snapshot() async throws(BackendError) {
        try await node.snapshotNow()
    }
}
