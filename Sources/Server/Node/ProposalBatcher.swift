import KV
import Synchronization

/// Groups concurrent client writes into one `0x01` batch entry, so many commands share one proposal, one
/// log record, one savepoint and (through a follower) one forwarded request.
///
/// Adaptive, with no added latency for a lone client: a command is proposed at once while fewer than
/// ``Limits/maxInFlightBatches`` batches are in flight; otherwise it waits in the queue and leaves with the
/// next batch, which starts as soon as one in flight is answered. Each command gets its own answer; a batch
/// that fails (not applied, or outcome unknown) gives every command in it the same error, which is true of
/// each of them (DESIGN §9).
final class ProposalBatcher: Sendable {
    /// Named bounds of a batch.
    struct Limits: Sendable {
        /// Batches proposed and not yet answered, at most: enough to keep the log pipeline busy while one
        /// batch waits for its fsync and replication round.
        var maxInFlightBatches = 4
        /// Commands in one batch, at most (below the codec's ``CommandEntry/Limits/maxCommandsPerBatch``).
        var maxCommandsPerBatch = 1_024
        /// Estimated bytes of one batch's commands, at most; a larger single command travels alone.
        var maxBatchBytes = 1 << 20
    }

    private struct Waiting {
        let command: Command
        let bytes: Int
        let continuation: CheckedContinuation<Result<CommandResult, BackendError>, Never>
    }

    private struct State {
        var queue: [Waiting] = []
        var inFlight = 0
    }

    let limits: Limits
    private let state = Mutex(State())
    private let propose: @Sendable ([UInt8]) async throws(BackendError) -> [CommandResult]
    private let nowMillis: @Sendable () -> UInt64
    /// Commands per proposed batch, when metrics are on.
    private let batchSizes: MetricHistogram?

    /// - Parameters:
    ///   - propose: proposes one entry payload and returns the answers of its commands once applied.
    ///   - nowMillis: the proposer's clock, stamped into each batch.
    init(limits: Limits = Limits(), metrics: MetricsRegistry? = nil, nowMillis: @escaping @Sendable () -> UInt64,
         propose: @escaping @Sendable ([UInt8]) async throws(BackendError) -> [CommandResult]) {
        batchSizes = metrics?.histogram(
            "elastickv_proposal_batch_commands", help: "Client commands per proposed entry",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024])
        precondition(limits.maxInFlightBatches > 0 && limits.maxCommandsPerBatch > 0 && limits.maxBatchBytes > 0,
                     "batch limits must be positive")
        precondition(limits.maxCommandsPerBatch <= CommandEntry.Limits.maxCommandsPerBatch,
                     "a batch must fit the entry codec")
        self.limits = limits
        self.nowMillis = nowMillis
        self.propose = propose
    }

    /// Proposes `command` (alone or with others) and returns its answer once applied.
    func execute(_ command: Command) async throws(BackendError) -> CommandResult {
        let result = await withCheckedContinuation { continuation in
            let waiting = Waiting(command: command, bytes: command.estimatedBytes, continuation: continuation)
            let batch = state.withLock { state -> [Waiting]? in
                state.queue.append(waiting)
                guard state.inFlight < limits.maxInFlightBatches else { return nil }
                state.inFlight += 1
                return Self.takeBatch(from: &state.queue, limits: limits)
            }
            if let batch { Task { await self.run(batch) } }
        }
        return try result.get()
    }

    /// Proposes `batch`, answers its commands, then keeps proposing what queued meanwhile, one batch at a
    /// time, until the queue is empty.
    private func run(_ first: [Waiting]) async {
        var batch = first
        while true {
            await propose(batch)
            let next = state.withLock { state -> [Waiting]? in
                guard !state.queue.isEmpty else {
                    state.inFlight -= 1
                    return nil
                }
                return Self.takeBatch(from: &state.queue, limits: limits)
            }
            guard let next else { return }
            batch = next
        }
    }

    private func propose(_ batch: [Waiting]) async {
        batchSizes?.record(Double(batch.count))
        let now = nowMillis()
        // Commit timestamps in microseconds: strictly increasing in apply, < 2^63 for the next 290,000 years.
        let payload = CommandEntry(proposedTS: now * 1000, nowMillis: now, commands: batch.map(\.command)).encoded()
        let answers: [CommandResult]
        do throws(BackendError) { answers = try await propose(payload) } catch {
            for waiting in batch { waiting.continuation.resume(returning: .failure(error)) }
            return
        }
        guard answers.count == batch.count else {
            let error = BackendError.ambiguous("the entry applied with \(answers.count) answers for \(batch.count) commands")
            for waiting in batch { waiting.continuation.resume(returning: .failure(error)) }
            return
        }
        for (waiting, answer) in zip(batch, answers) { waiting.continuation.resume(returning: .success(answer)) }
    }

    /// Takes the oldest queued commands that fit one batch (always at least one).
    private static func takeBatch(from queue: inout [Waiting], limits: Limits) -> [Waiting] {
        var count = 0
        var bytes = 0
        while count < queue.count, count < limits.maxCommandsPerBatch {
            let next = queue[count].bytes
            if count > 0 && bytes + next > limits.maxBatchBytes { break }
            bytes += next
            count += 1
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }
}

extension Command {
    /// Roughly how many bytes the command adds to an entry: its keys, fields and values plus a little per
    /// item. Used to bound batches, not to size buffers.
    var estimatedBytes: Int {
        let perItem = 16
        switch self {
        case .set(let key, let value, _, _, _), .append(let key, let value), .setRange(let key, _, let value):
            return key.count + value.count + perItem
        case .multiSet(let pairs, _), .hashSet(_, let pairs):
            return pairs.reduce(perItem) { $0 + $1.key.count + $1.value.count + perItem }
        case .delete(let keys), .bitOperation(_, _, let keys):
            return keys.reduce(perItem) { $0 + $1.count + perItem }
        case .hashDelete(let key, let fields):
            return fields.reduce(key.count + perItem) { $0 + $1.count + perItem }
        case .hashIncrementBy(let key, let field, _), .hashIncrementByFloat(let key, let field, _):
            return key.count + field.count + perItem
        case .hashSetIfAbsent(let key, let field, let value):
            return key.count + field.count + value.count + perItem
        case .registerMember(_, let name, let address):
            return name.count + address.count + perItem
        case .sweepExpired(let from, _):
            return from.count + perItem
        case .database(_, let command):
            return command.estimatedBytes + 1
        case .hyperLogLogAdd(let key, let elements):
            return elements.reduce(key.count + perItem) { $0 + $1.count + perItem }
        case .bitField(let key, let operations):
            return key.count + operations.count * 24 + perItem
        case .flushDatabase, .move, .copyToDatabase, .swapDatabases, .hyperLogLogMerge:
            return keys.reduce(perItem) { $0 + $1.count + perItem }
        case .list(let command):
            switch command {
            case .push(let key, let elements, _, _):
                return elements.reduce(key.count + perItem) { $0 + $1.count + perItem }
            case .set(let key, _, let element), .remove(let key, _, let element):
                return key.count + element.count + perItem
            case .insert(let key, _, let pivot, let element):
                return key.count + pivot.count + element.count + perItem
            case .pop, .trim, .move, .multiPop:
                return keys.reduce(perItem) { $0 + $1.count + perItem }
            }
        case .streamGroups:
            return keys.reduce(perItem * 2) { $0 + $1.count + perItem }
        case .streams(let command):
            guard case .add(let key, _, let fields, _, _) = command else { return keys.reduce(perItem * 3) { $0 + $1.count + perItem } }
            return fields.reduce(key.count + perItem) { $0 + $1.count + perItem }
        case .sortedSets(let command):
            guard case .add(let key, let entries, _) = command else { return keys.reduce(perItem) { $0 + $1.count + perItem } }
            return entries.reduce(key.count + perItem) { $0 + $1.member.count + 8 + perItem }
        case .sets(let command):
            switch command {
            case .add(let key, let members), .remove(let key, let members):
                return members.reduce(key.count + perItem) { $0 + $1.count + perItem }
            case .move(_, _, let member):
                return keys.reduce(member.count + perItem) { $0 + $1.count + perItem }
            case .pop, .store:
                return keys.reduce(perItem) { $0 + $1.count + perItem }
            }
        case .incrementBy, .incrementByFloat, .expireAt, .expireAtIf, .persist, .getDelete, .getExpire, .rename, .copy,
             .setBit, .flushAll:
            return keys.reduce(perItem) { $0 + $1.count }
        }
    }
}
