import Foundation
import Raft
import Testing
import TestSupport

/// The main Raft test: many seeded runs of a faulty cluster, each checked after every step.
///
/// `RAFT_SIM_SEED=<n>` replays one seed (add `RAFT_SIM_TRACE=1` for its event log); `RAFT_SIM_SEEDS=<n>`
/// changes how many seeds a full run covers and `RAFT_SIM_FIRST_SEED=<n>` where they start.
@Suite struct SimulationTests {
    /// Seeds covered by a default run, split into batches so the batches run in parallel.
    static let defaultSeedCount = 2_000
    static let batchCount = 8

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static func seeds(inBatch batch: Int) -> [UInt64] {
        if let single = environment["RAFT_SIM_SEED"].flatMap(UInt64.init) { return batch == 0 ? [single] : [] }
        let count = environment["RAFT_SIM_SEEDS"].flatMap(Int.init) ?? defaultSeedCount
        let first = environment["RAFT_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<count).filter { $0 % batchCount == batch }.map { first + UInt64($0) }
    }

    @Test(arguments: 0..<batchCount)
    func seededRunsKeepSafetyAndConverge(batch: Int) {
        let isTracing = Self.environment["RAFT_SIM_TRACE"] == "1"
        for seed in Self.seeds(inBatch: batch) {
            let simulation = Simulation(seed: seed, isTracing: isTracing)
            do {
                try simulation.run()
                if isTracing {
                    let completed = simulation.history.filter { $0.output != nil }.count
                    print("seed \(seed): ok, \(simulation.statistics), operations \(simulation.history.count) completed \(completed), snapshots installed \(simulation.snapshotsInstalled)")
                }
            } catch {
                print(error.description)
                Issue.record("simulation seed \(seed) failed: \(error.reason)\nreplay: \(error.replayCommand)")
                return
            }
        }
    }
}
