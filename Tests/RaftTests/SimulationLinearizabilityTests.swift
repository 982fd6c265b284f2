import Raft
import Testing
import TestSupport

/// The client histories of simulated runs are linearizable for a key-value register model.
///
/// Every seed runs with the same faults as `SimulationTests`; its recorded puts and gets (operations whose
/// member crashed or whose proposal was lost count as pending) are checked with the project's Wing–Gong
/// checker, partitioned by key.
@Suite struct SimulationLinearizabilityTests {
    typealias Model = KeyValueModel<UInt8, UInt64>
    static let seedsPerProfile: [String: ClosedRange<UInt64>] = ["default": 1...300, "turbulent": 1...150]

    static func history(of records: [OperationRecord]) -> [HistoryOperation<Model.Input, Model.Output>] {
        records.map { record in
            let input: Model.Input
            switch record.input {
            case .put(let key, let value): input = .put(key: key, value: value)
            case .get(let key): input = .get(key: key)
            }
            guard let output = record.output else {
                return .pending(clientID: Int(record.id), input: input, callTime: Int(record.callTime))
            }
            let mapped: Model.Output
            switch output {
            case .ok: mapped = .ok
            case .value(let value): mapped = .read(value)
            }
            return HistoryOperation(clientID: Int(record.id), input: input, output: mapped,
                                    callTime: Int(record.callTime), returnTime: Int(record.returnTime))
        }
    }

    @Test(arguments: ["default", "turbulent"])
    func simulatedHistoriesAreLinearizable(profile: String) async throws {
        let (checkedOperations, failure) = try await CPUBoundWork.run { try Self.check(profile: profile) }
        if let failure { Issue.record(Comment(rawValue: failure)) }
        #expect(checkedOperations > 1_000, "the runs must produce real histories to check")
    }

    /// Checks the histories of every seed of `profile`; returns the operations checked and the first failure.
    static func check(profile: String) throws -> (operations: Int, failure: String?) {
        let checker = LinearizabilityChecker(model: Model())
        var checkedOperations = 0
        for seed in Self.seedsPerProfile[profile]! {
            let simulation = Simulation(seed: seed, options: SimulationOptions.profiles[profile]!)
            try simulation.run()
            let history = Self.history(of: simulation.history)
            checkedOperations += history.count
            let verdict = try checker.check(history)
            guard case .linearizable = verdict else {
                let replay = "RAFT_SIM_SEED=\(seed) RAFT_SIM_PROFILE=\(profile) swift test --filter RaftTests.SimulationTests"
                return (checkedOperations, "seed \(seed) (\(profile)): \(verdict)\nreplay: \(replay)")
            }
        }
        return (checkedOperations, nil)
    }

    @Test func aReadOfAValueNeverWrittenIsCaught() throws {
        // A calm run (message loss and delays only) over more keys, so some key's operations all complete and
        // the search stays small; make one of that key's gets answer a value nobody wrote.
        var options = SimulationOptions.profiles["default"]!
        options.crashProbability = 0
        options.crashDuringPersistProbability = 0
        options.partitionProbability = 0
        options.membershipChangeProbability = 0
        options.transferProbability = 0
        options.keyCount = 8
        for seed in UInt64(1)...20 {
            let simulation = Simulation(seed: seed, options: options)
            try simulation.run()
            var records = simulation.history
            let keys = Set(records.map(\.key))
            guard let key = keys.sorted().first(where: { key in
                let operations = records.filter { $0.key == key }
                return operations.allSatisfy { $0.output != nil } && operations.contains { $0.isGet }
            }) else { continue }
            let index = records.firstIndex { $0.key == key && $0.isGet }!
            records[index].output = .value(UInt64.max)
            let verdict = try LinearizabilityChecker(model: Model()).check(Self.history(of: records))
            guard case .notLinearizable = verdict else {
                Issue.record("seed \(seed): a read of a value never written must be rejected, got \(verdict)")
                return
            }
            return
        }
        Issue.record("no seed produced a key whose operations all completed")
    }
}

extension OperationRecord {
    var key: UInt8 {
        switch input {
        case .put(let key, _), .get(let key): return key
        }
    }

    var isGet: Bool { if case .get = input { true } else { false } }
}
