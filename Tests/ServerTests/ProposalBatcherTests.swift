import KV
@testable import Server
import Synchronization
import Testing

/// Concurrent writes share batch entries; a lone write goes at once; every command gets its own answer, and
/// a failed batch gives each command the batch's error.
@Suite struct ProposalBatcherTests {
    /// A proposer that records payloads and holds each proposal until the test releases it.
    final class HeldProposer: Sendable {
        let payloads = Mutex<[[UInt8]]>([])
        let gates = Mutex<[CheckedContinuation<Void, Never>]>([])
        let failure: BackendError?
        let dropAnswers: Bool

        init(failure: BackendError? = nil, dropAnswers: Bool = false) {
            self.failure = failure
            self.dropAnswers = dropAnswers
        }

        func propose(_ payload: [UInt8]) async throws(BackendError) -> [CommandResult] {
            payloads.withLock { $0.append(payload) }
            await withCheckedContinuation { continuation in gates.withLock { $0.append(continuation) } }
            if let failure { throw failure }
            let commands = (try? CommandEntry(decoding: payload).commands) ?? []
            let answers = commands.map { command -> CommandResult in
                if case .set(let key, _, _, _, _) = command { return .bulk(key) }
                return .ok
            }
            return dropAnswers ? Array(answers.dropLast()) : answers
        }

        /// Lets every held proposal finish.
        func releaseAll() {
            for gate in gates.withLock({ gates in defer { gates = [] }; return gates }) { gate.resume() }
        }

        var proposalCount: Int { payloads.withLock { $0.count } }
        var batches: [[Command]] {
            payloads.withLock { $0 }.map { (try? CommandEntry(decoding: $0).commands) ?? [] }
        }
    }

    static func set(_ key: String, bytes: Int = 1) -> Command {
        .set(key: Array(key.utf8), value: [UInt8](repeating: 7, count: bytes), condition: .always, expiry: .none,
             returnOld: false)
    }

    static func batcher(_ proposer: HeldProposer, limits: ProposalBatcher.Limits = .init()) -> ProposalBatcher {
        ProposalBatcher(limits: limits, nowMillis: { 1_000 }) { payload throws(BackendError) in
            try await proposer.propose(payload)
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1_000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }

    @Test func aLoneCommandIsProposedAtOnceAsASingleCommandEntry() async throws {
        let proposer = HeldProposer()
        let batcher = Self.batcher(proposer)
        async let answer = batcher.execute(Self.set("a"))
        try await Self.waitUntil { proposer.proposalCount == 1 }
        proposer.releaseAll()
        #expect(try await answer == .bulk(Array("a".utf8)))
        #expect(proposer.payloads.withLock { $0[0].first } == Opcode.command.rawValue)
    }

    @Test func commandsArrivingWhileBatchesAreInFlightLeaveTogetherAndEachGetsItsAnswer() async throws {
        let proposer = HeldProposer()
        let batcher = Self.batcher(proposer, limits: .init(maxInFlightBatches: 1))
        let first = Task { try await batcher.execute(Self.set("first")) }
        try await Self.waitUntil { proposer.proposalCount == 1 }
        let queued = (0..<10).map { n in Task { try await batcher.execute(Self.set("k\(n)")) } }
        try await Task.sleep(for: .milliseconds(50))
        #expect(proposer.proposalCount == 1, "nothing else is proposed while the only batch slot is taken")
        proposer.releaseAll()
        try await Self.waitUntil { proposer.proposalCount == 2 }
        proposer.releaseAll()
        #expect(try await first.value == .bulk(Array("first".utf8)))
        for (n, task) in queued.enumerated() { #expect(try await task.value == .bulk(Array("k\(n)".utf8))) }
        let batches = proposer.batches
        #expect(batches.map(\.count) == [1, 10])
        #expect(proposer.payloads.withLock { $0[1].first } == Opcode.batch.rawValue)
    }

    @Test func aFailedBatchGivesEveryCommandItsError() async throws {
        let proposer = HeldProposer(failure: .leadershipLost)
        let batcher = Self.batcher(proposer, limits: .init(maxInFlightBatches: 1))
        let tasks = (0..<3).map { n in
            Task { () -> BackendError? in
                do throws(BackendError) { _ = try await batcher.execute(Self.set("k\(n)")) } catch { return error }
                return nil
            }
        }
        // The first goes alone, the other two together (or all alone): release until every proposal ran.
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(20))
            proposer.releaseAll()
        }
        for task in tasks { #expect(await task.value == .leadershipLost) }
        #expect((2...3).contains(proposer.proposalCount))
    }

    @Test func missingAnswersAreAmbiguousForEveryCommand() async throws {
        let proposer = HeldProposer(dropAnswers: true)
        let batcher = Self.batcher(proposer)
        let task = Task { () -> BackendError? in
            do throws(BackendError) { _ = try await batcher.execute(Self.set("a")) } catch { return error }
            return nil
        }
        try await Self.waitUntil { proposer.proposalCount == 1 }
        proposer.releaseAll()
        #expect(await task.value?.outcomeUnknown == true)
    }

    @Test func batchesStayWithinTheirByteAndCountLimits() async throws {
        let proposer = HeldProposer()
        let limits = ProposalBatcher.Limits(maxInFlightBatches: 1, maxCommandsPerBatch: 3, maxBatchBytes: 2_000)
        let batcher = Self.batcher(proposer, limits: limits)
        let first = Task { try await batcher.execute(Self.set("first")) }
        try await Self.waitUntil { proposer.proposalCount == 1 }
        // Queued: two of 900 bytes fit one batch, the third does not; then four small ones, three at most.
        var queued: [Task<CommandResult, any Error>] = []
        for n in 0..<3 {
            queued.append(Task { try await batcher.execute(Self.set("big\(n)", bytes: 900)) })
            try await Self.waitUntil { proposer.proposalCount == 1 }
            try await Task.sleep(for: .milliseconds(5))
        }
        for n in 0..<4 { queued.append(Task { try await batcher.execute(Self.set("s\(n)")) }) }
        try await Task.sleep(for: .milliseconds(50))
        for _ in 0..<6 where proposer.proposalCount < 5 || proposer.gates.withLock({ !$0.isEmpty }) {
            proposer.releaseAll()
            try await Task.sleep(for: .milliseconds(20))
        }
        proposer.releaseAll()
        _ = try await first.value
        for task in queued { _ = try await task.value }
        let sizes = proposer.batches.map(\.count)
        #expect(sizes.first == 1)
        #expect(sizes.dropFirst().allSatisfy { $0 <= 3 })
        #expect(sizes.reduce(0, +) == 8)
        for batch in proposer.batches {
            #expect(batch.reduce(0) { $0 + $1.estimatedBytes } <= 2_000 || batch.count == 1)
        }
    }
}
