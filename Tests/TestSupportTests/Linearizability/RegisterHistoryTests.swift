import TestSupport
import Testing

/// Register histories whose verdict is known, each named after the behaviour it shows. Reads see 0 before
/// any write; intervals are closed `call...return` times.
@Suite struct RegisterHistoryTests {
    @Test func emptyHistoryIsLinearizable() throws {
        #expect(try checkRegister([]).isLinearizable)
    }

    @Test func sequentialWritesAndReadsAreLinearizable() throws {
        let history = [
            read(0, client: 1, 0...1),
            write(1, client: 1, 2...3),
            read(1, client: 2, 4...5),
            write(2, client: 2, 6...7),
            read(2, client: 1, 8...9),
        ]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test(arguments: [1, 2])
    func readAfterConcurrentWritesMaySeeEither(seen: Int) throws {
        let history = [
            write(1, client: 1, 0...10),
            write(2, client: 2, 3...12),
            read(seen, client: 3, 13...14),
            read(seen, client: 1, 15...16),
        ]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test(arguments: [0, 1])
    func readConcurrentWithWriteMaySeeOldOrNew(seen: Int) throws {
        let history = [write(1, client: 1, 0...10), read(seen, client: 2, 2...5)]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test func operationsTouchingAtOneInstantAreConcurrent() throws {
        // The read is called in the tick the write returns, so it may still be ordered first.
        let history = [write(1, client: 1, 0...5), read(0, client: 2, 5...6)]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test func staleReadAfterCompletedWriteIsNotLinearizable() throws {
        let history = [write(1, client: 1, 0...1), read(0, client: 2, 2...3)]
        let violation = try #require(try checkRegister(history).violation)
        #expect(violation.longestLinearizablePrefix == [history[0]])
        #expect(violation.blockedOperations == [history[1]])
        #expect(violation.description.contains("read() -> 0"))
    }

    @Test func violationReportListsOnlyTheLastPrefixOperations() throws {
        let writes = (1...20).map { write($0, client: 1, ($0 * 2)...($0 * 2 + 1)) }
        let violation = try #require(try checkRegister(writes + [read(19, client: 2, 50...51)]).violation)
        #expect(violation.longestLinearizablePrefix == writes)
        #expect(violation.description.contains("... 8 earlier operations"))
        #expect(!violation.description.contains("\n  8. client"))
        #expect(violation.description.contains("  9. client 1 [18, 19] write(9)"))
        #expect(violation.description.contains("  20. client 1 [40, 41] write(20)"))
        #expect(violation.description.hasSuffix("  - client 2 [50, 51] read() -> 19"))
    }

    @Test func readOfValueNeverWrittenIsNotLinearizable() throws {
        let history = [write(1, client: 1, 0...10), read(7, client: 2, 2...5)]
        let violation = try #require(try checkRegister(history).violation)
        #expect(violation.blockedOperations.contains(history[1]))
    }

    @Test func sequentialReadsSeeingNewThenOldAreNotLinearizable() throws {
        // Both reads overlap the write, but once one has seen 1 a later read cannot see 0 again.
        let history = [
            write(1, client: 1, 0...10),
            read(1, client: 2, 1...2),
            read(0, client: 3, 3...4),
        ]
        #expect(try checkRegister(history).violation != nil)
    }

    @Test func clientsObservingConcurrentWritesInOppositeOrdersAreNotLinearizable() throws {
        let writes = [write(1, client: 1, 0...10), write(2, client: 2, 0...10)]
        let firstObserver = [read(1, client: 3, 1...2), read(2, client: 3, 3...4)]
        let secondObserver = [read(2, client: 4, 1...2), read(1, client: 4, 3...4)]
        #expect(try checkRegister(writes + firstObserver).isLinearizable)
        #expect(try checkRegister(writes + secondObserver).isLinearizable)
        #expect(try checkRegister(writes + firstObserver + secondObserver).violation != nil)
    }

    @Test func finalValueMustBeTheSameForEveryLaterReader() throws {
        let history = [
            write(1, client: 1, 0...10),
            write(2, client: 2, 0...10),
            read(1, client: 3, 11...12),
            read(2, client: 4, 13...14),
        ]
        #expect(try checkRegister(history).violation != nil)
    }

    @Test func orderOfArrayDoesNotMatter() throws {
        let history = [
            read(2, client: 1, 8...9),
            write(2, client: 2, 6...7),
            write(1, client: 1, 2...3),
            read(1, client: 2, 4...5),
        ]
        #expect(try checkRegister(history).isLinearizable)
        #expect(try checkRegister(history + [read(1, client: 3, 10...11)]).violation != nil)
    }

    @Test func manyConcurrentWritesFollowedByReadOfUnwrittenValueAreRefutedExhaustively() throws {
        // Every order of the twelve writes has to be ruled out; the memo keeps that to subsets, not orders.
        let writes = (1...12).map { write($0, client: $0, 0...100) }
        let history = writes + [read(13, client: 13, 101...102)]
        #expect(try checkRegister(history).violation != nil)
        #expect(try checkRegister(writes + [read(7, client: 13, 101...102)]).isLinearizable)
    }
}
