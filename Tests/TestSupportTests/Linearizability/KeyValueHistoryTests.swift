import TestSupport
import Testing

/// Key-value histories: per-key verdicts, partitioning by key, and large generated histories.
@Suite struct KeyValueHistoryTests {
    @Test func putGetDeleteSequenceIsLinearizable() throws {
        let history = [
            get("a", nil, client: 1, 0...1),
            put("a", 1, client: 1, 2...3),
            get("a", 1, client: 2, 4...5),
            delete("a", client: 2, 6...7),
            get("a", nil, client: 1, 8...9),
        ]
        #expect(try checkKeyValue(history).isLinearizable)
    }

    @Test func readAfterDeleteSeeingOldValueIsNotLinearizable() throws {
        let history = [
            put("a", 1, client: 1, 0...1),
            delete("a", client: 1, 2...3),
            get("a", 1, client: 2, 4...5),
        ]
        #expect(try checkKeyValue(history).violation != nil)
    }

    @Test func lostAcknowledgedUpdateIsNotLinearizable() throws {
        // Both puts were acknowledged in order, yet a later get sees the first: the second was lost.
        let history = [
            put("a", 1, client: 1, 0...2),
            put("a", 2, client: 2, 3...4),
            get("a", 1, client: 3, 6...7),
        ]
        #expect(try checkKeyValue(history).violation != nil)
        #expect(try checkKeyValue(Array(history.prefix(2)) + [get("a", nil, client: 3, 6...7)]).violation != nil)
    }

    @Test func keysDoNotConstrainEachOther() throws {
        let history = [
            put("a", 1, client: 1, 0...1),
            put("b", 2, client: 2, 2...3),
            get("a", 1, client: 3, 4...5),
            get("b", 2, client: 3, 6...7),
            get("c", nil, client: 1, 6...7),
        ]
        #expect(try checkKeyValue(history).isLinearizable)
    }

    @Test func partitionsByKeyInOrderOfFirstAppearance() {
        let history = [put("b", 1, client: 1, 0...1), put("a", 2, client: 1, 2...3), get("b", 1, client: 2, 4...5)]
        let parts = KeyValue().partition(history)
        #expect(parts == [[history[0], history[2]], [history[1]]])
    }

    @Test func violationOnOneKeyIsFoundAmongManyKeys() throws {
        var history: [KeyValueOperation] = []
        for key in 0..<200 {
            let base = key * 10
            history.append(put("k\(key)", key, client: key % 7, base...(base + 2)))
            history.append(get("k\(key)", key, client: key % 5, (base + 3)...(base + 4)))
        }
        #expect(try checkKeyValue(history).isLinearizable)
        history.append(get("k123", nil, client: 9, 5_000...5_001))
        let violation = try #require(try checkKeyValue(history).violation)
        #expect(violation.partitionCount == 200)
        #expect(violation.partition.allSatisfy { $0.input.key == "k123" })
        #expect(violation.longestLinearizablePrefix.count == 2)
        #expect(violation.blockedOperations == [history.last])
        #expect(violation.description.contains("get(k123) -> nil"))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func largeGeneratedHistoryIsAcceptedWithinASmallBudget(seed: UInt64) throws {
        let history = RandomKeyValueHistory().generate(seed: seed)
        #expect(history.count > 10_000)
        #expect(history.contains { $0.isPending })
        // About a hundred steps per operation: a search that had to backtrack widely would run out.
        let limits = LinearizabilityLimits(maxSearchSteps: 100 * history.count)
        let clock = ContinuousClock()
        var result: LinearizabilityResult<KeyValue.Input, KeyValue.Output>?
        let elapsed = try clock.measure { result = try checkKeyValue(history, limits: limits) }
        print("seed \(seed): \(history.count) operations checked in \(elapsed)")
        #expect(result?.isLinearizable == true, "\(String(describing: result))")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func largeGeneratedHistoryWithOneReadOfUnwrittenValueIsRejected(seed: UInt64) throws {
        var history = RandomKeyValueHistory().generate(seed: seed)
        var random = SplitMix64(seed: seed)
        let reads = history.indices.filter {
            if case .get = history[$0].input { return !history[$0].isPending }
            return false
        }
        let target = try #require(reads.randomElement(using: &random))
        let original = history[target]
        history[target] = get(
            original.input.key, -1, client: original.clientID, original.callTime...original.returnTime!)
        let violation = try #require(try checkKeyValue(history).violation)
        #expect(violation.partition.contains(history[target]))
        #expect(!violation.longestLinearizablePrefix.contains(history[target]))
        #expect(!violation.blockedOperations.isEmpty)
    }
}
