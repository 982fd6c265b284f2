import TestSupport
import Testing

/// A check that runs out of budget says so; it never reports a pass it did not prove.
@Suite struct LinearizabilityBudgetTests {
    /// Twelve concurrent writes and a read of a value none wrote: refuting it takes many steps.
    private var hardHistory: [RegisterOperation] {
        (1...12).map { write($0, client: $0, 0...100) } + [read(13, client: 13, 101...102)]
    }

    @Test func runningOutOfStepsIsUnknown() throws {
        let result = try checkRegister(hardHistory, limits: LinearizabilityLimits(maxSearchSteps: 500))
        guard case .unknown(let reason) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
        #expect(reason == .searchSteps(limit: 500))
    }

    @Test func linearizableHistoryOutOfStepsIsUnknownNotAPass() throws {
        let history = [write(1, client: 1, 0...1), read(1, client: 2, 2...3), read(1, client: 1, 4...5)]
        #expect(try checkRegister(history, limits: LinearizabilityLimits(maxSearchSteps: 6)).isLinearizable)
        let result = try checkRegister(history, limits: LinearizabilityLimits(maxSearchSteps: 2))
        guard case .unknown(.searchSteps(limit: 2)) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
    }

    @Test func stepBudgetIsSharedByAllPartitions() throws {
        let history = (0..<10).flatMap { key in
            let start = key * 4
            return [
                put("k\(key)", key, client: 1, start...(start + 1)),
                get("k\(key)", key, client: 2, (start + 2)...(start + 3)),
            ]
        }
        // Each key's two sequential operations take two steps; ten keys take twenty.
        #expect(try checkKeyValue(history, limits: LinearizabilityLimits(maxSearchSteps: 20)).isLinearizable)
        let result = try checkKeyValue(history, limits: LinearizabilityLimits(maxSearchSteps: 19))
        guard case .unknown(.searchSteps(limit: 19)) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
    }

    @Test func outgrowingMemoIsUnknown() throws {
        let result = try checkRegister(hardHistory, limits: LinearizabilityLimits(maxMemoBytes: 10_000))
        guard case .unknown(.memoBytes(limit: 10_000)) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
    }

    @Test func runningOutOfTimeIsUnknown() throws {
        let result = try checkRegister(hardHistory, limits: LinearizabilityLimits(maxDuration: .zero))
        guard case .unknown(.duration(limit: .zero)) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
    }

    @Test func historyLargerThanLimitIsRefused() {
        let history = [write(1, client: 1, 0...1), read(1, client: 2, 2...3), read(1, client: 1, 4...5)]
        #expect(throws: LinearizabilityError.historyTooLarge(operationCount: 3, limit: 2)) {
            try checkRegister(history, limits: LinearizabilityLimits(maxOperations: 2))
        }
    }
}
