import TestSupport
import Testing

/// The checker agrees with a direct enumeration of every order on many small random histories.
@Suite struct BruteForceComparisonTests {
    /// Whether some subset of the pending operations together with every completed one has an order that
    /// respects real time and the register's rules, found by trying every order.
    private func bruteForceIsLinearizable(_ history: [RegisterOperation]) -> Bool {
        let model = Register(initialValue: 0)
        func search(_ remaining: [Int], _ state: Int) -> Bool {
            if remaining.allSatisfy({ history[$0].isPending }) { return true }
            for candidate in remaining {
                let call = history[candidate].callTime
                let mustComeFirst = remaining.contains { other in
                    other != candidate && (history[other].returnTime.map { $0 < call } ?? false)
                }
                if mustComeFirst { continue }
                let operation = history[candidate]
                let (isLegal, next) = model.step(state, operation.input, operation.output)
                let rest = remaining.filter { $0 != candidate }
                if isLegal && search(rest, next) { return true }
                // A pending operation may also never take effect.
                if operation.isPending && search(rest, state) { return true }
            }
            return false
        }
        return search(Array(history.indices), model.initialState)
    }

    private func randomHistory(using random: inout SplitMix64) -> [RegisterOperation] {
        (0..<Int.random(in: 1...6, using: &random)).map { _ in
            let client = Int.random(in: 0..<3, using: &random)
            let call = Int.random(in: 0..<10, using: &random)
            let end = call + Int.random(in: 0..<5, using: &random)
            let value = Int.random(in: 0...2, using: &random)
            let isWrite = Bool.random(using: &random)
            if Int.random(in: 0..<8, using: &random) == 0 {
                return isWrite
                    ? pendingWrite(value, client: client, calledAt: call)
                    : pendingRead(client: client, calledAt: call)
            }
            return isWrite ? write(value, client: client, call...end) : read(value, client: client, call...end)
        }
    }

    @Test func checkerAgreesWithBruteForceOnRandomSmallHistories() throws {
        var random = SplitMix64(seed: 0x5EED)
        var verdictCounts = (linearizable: 0, notLinearizable: 0)
        for round in 0..<3_000 {
            let history = randomHistory(using: &random)
            let expected = bruteForceIsLinearizable(history)
            let result = try checkRegister(history)
            if case .unknown = result { Issue.record("round \(round): unknown for \(history.count) operations") }
            #expect(result.isLinearizable == expected, "round \(round): \(history)")
            if expected { verdictCounts.linearizable += 1 } else { verdictCounts.notLinearizable += 1 }
        }
        // Both verdicts must be common, or the comparison says little.
        #expect(verdictCounts.linearizable > 300)
        #expect(verdictCounts.notLinearizable > 300)
    }
}
