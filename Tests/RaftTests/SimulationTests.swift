import Foundation
import Raft
import Testing

@testable import TestSupport

/// The main Raft test: many seeded runs of a faulty cluster, each checked after every step.
///
/// Replay one seed with `RAFT_SIM_SEED=<n> RAFT_SIM_PROFILE=<name>` (add `RAFT_SIM_TRACE=1` for its event
/// log). `RAFT_SIM_SEEDS=<n>` changes how many seeds the default profile covers and `RAFT_SIM_FIRST_SEED=<n>`
/// where all profiles start, to explore beyond the seeds CI runs.
@Suite struct SimulationTests {
    /// Seeds per profile in a default run; split into batches so batches run in parallel.
    static let defaultProfileSeedCount = 2_000
    static let otherProfileSeedCount = 400
    static let batchCount = 8

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static func seeds(profile: String, batch: Int) -> [UInt64] {
        if let single = environment["RAFT_SIM_SEED"].flatMap(UInt64.init) {
            let replayed = environment["RAFT_SIM_PROFILE"] ?? "default"
            return batch == 0 && replayed == profile ? [single] : []
        }
        let configured = environment["RAFT_SIM_SEEDS"].flatMap(Int.init)
        let count =
            profile == "default"
            ? (configured ?? defaultProfileSeedCount) : (configured.map { $0 / 5 } ?? otherProfileSeedCount)
        let first = environment["RAFT_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<count).filter { $0 % batchCount == batch }.map { first + UInt64($0) }
    }

    /// Every profile keeps safety after every step and converges; each batch computes on its own thread.
    @Test(arguments: ["default", "harsh", "turbulent", "plain"], 0..<batchCount)
    func profileKeepsSafetyAndConverges(profile: String, batch: Int) async throws {
        if let failure = try await CPUBoundWork.run({ Self.run(profile: profile, batch: batch) }) {
            Issue.record(Comment(rawValue: failure))
        }
    }

    /// Runs one batch of seeds; returns the first failure with its replay command, `nil` when all pass.
    static func run(profile: String, batch: Int) -> String? {
        let seeds = Self.seeds(profile: profile, batch: batch)
        guard let first = seeds.first, let last = seeds.last, let options = SimulationOptions.profiles[profile] else {
            return nil
        }
        let isTracing = environment["RAFT_SIM_TRACE"] == "1"
        print("simulation profile \(profile): \(seeds.count) seeds from \(first) to \(last)")
        for seed in seeds {
            let simulation = Simulation(seed: seed, options: options, isTracing: isTracing)
            do {
                try simulation.run()
            } catch {
                print(error.description)
                return "simulation seed \(seed) failed: \(error.reason)\nreplay: \(error.replayCommand)"
            }
            if let anomaly = RegisterHistoryAudit.findAnomaly(in: simulation.history) {
                let replay =
                    "RAFT_SIM_SEED=\(seed) RAFT_SIM_PROFILE=\(profile) swift test --filter RaftTests.SimulationTests"
                return "simulation seed \(seed): client history anomaly: \(anomaly)\nreplay: \(replay)"
            }
            if isTracing {
                let completed = simulation.history.filter { $0.output != nil }.count
                print(
                    "seed \(seed): ok, \(simulation.statistics), operations \(simulation.history.count), "
                        + "completed \(completed), snapshots installed \(simulation.snapshotsInstalled)")
            }
        }
        return nil
    }

    @Test func sameSeedReplaysExactly() throws {
        let first = Simulation(seed: 42, options: .turbulent)
        let second = Simulation(seed: 42, options: .turbulent)
        try first.run()
        try second.run()

        #expect(first.history == second.history)
        #expect(first.statistics == second.statistics)
        #expect(first.step == second.step)
        let other = Simulation(seed: 43, options: .turbulent)
        try other.run()
        #expect(other.history != first.history)
    }

    @Test func checkerDetectsTwoLeadersInOneTerm() throws {
        let checker = SafetyChecker()
        let cluster = ScriptedCluster(voters: [1], spares: [2])
        cluster.elect(1)
        try checker.checkLeader(1, core: cluster[1], leaders: [])
        let other = ScriptedCluster(voters: [2])
        other.elect(2)

        #expect(throws: SafetyViolation.self) { try checker.checkLeader(2, core: other[2], leaders: []) }
    }

    @Test func checkerDetectsDivergentLogsAndStates() throws {
        let checker = SafetyChecker()
        try checker.checkAppended(1, entries: [Entry(term: 1, index: 1, data: [1])], previousTerm: 0)

        #expect(throws: SafetyViolation.self) {
            try checker.checkAppended(2, entries: [Entry(term: 1, index: 1, data: [2])], previousTerm: 0)
        }
        try checker.checkApplied(
            1, memberTerm: 1, entry: Entry(term: 1, index: 1, data: [1]), stateDigest: 10, leaders: [])
        #expect(throws: SafetyViolation.self) {
            try checker.checkApplied(2, memberTerm: 2, entry: Entry(term: 2, index: 1), stateDigest: 10, leaders: [])
        }
        #expect(throws: SafetyViolation.self) { try checker.checkState(3, index: 1, stateDigest: 11) }
    }

    @Test func auditFindsAStaleRead() {
        let history = [
            OperationRecord(id: 1, member: 1, input: .put(key: 0, value: 1), output: .ok, callTime: 1, returnTime: 2),
            OperationRecord(id: 2, member: 1, input: .put(key: 0, value: 2), output: .ok, callTime: 3, returnTime: 4),
            OperationRecord(id: 3, member: 2, input: .get(key: 0), output: .value(1), callTime: 5, returnTime: 6),
        ]

        #expect(RegisterHistoryAudit.findAnomaly(in: history) != nil)
        #expect(RegisterHistoryAudit.findAnomaly(in: Array(history.prefix(2))) == nil)
    }
}
