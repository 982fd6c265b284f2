import TestSupport
import Testing

/// Operations that never returned may have taken effect at any time after their call, or not at all.
@Suite struct PendingOperationTests {
    @Test(arguments: [0, 1])
    func pendingWriteMayOrMayNotBeSeen(seen: Int) throws {
        let history = [pendingWrite(1, client: 1, calledAt: 0), read(seen, client: 2, 5...6)]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test func pendingWriteCannotTakeEffectBeforeItsCall() throws {
        let history = [read(1, client: 2, 0...1), pendingWrite(1, client: 1, calledAt: 5)]
        #expect(try checkRegister(history).violation != nil)
    }

    @Test func pendingWriteOnceSeenCannotBeUnseen() throws {
        let history = [
            pendingWrite(1, client: 1, calledAt: 0),
            read(1, client: 2, 5...6),
            read(0, client: 3, 7...8),
        ]
        let violation = try #require(try checkRegister(history).violation)
        #expect(violation.longestLinearizablePrefix == [history[0], history[1]])
        #expect(violation.description.contains("client 1 [0, never) write(1) (no response)"))
    }

    @Test func pendingWriteMayTakeEffectLongAfterLaterWrites() throws {
        // The pending write lands after the completed one, so the final read sees the pending value.
        let history = [
            pendingWrite(1, client: 1, calledAt: 0),
            write(2, client: 2, 5...6),
            read(2, client: 3, 7...8),
            read(1, client: 3, 9...10),
        ]
        #expect(try checkRegister(history).isLinearizable)
        #expect(try checkRegister(history + [read(2, client: 4, 11...12)]).violation != nil)
    }

    @Test func pendingReadConstrainsNothing() throws {
        let history = [
            pendingRead(client: 1, calledAt: 0),
            write(1, client: 2, 1...2),
            read(1, client: 3, 3...4),
        ]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test func historyOfOnlyPendingOperationsIsLinearizable() throws {
        let history = [pendingWrite(1, client: 1, calledAt: 0), pendingRead(client: 2, calledAt: 1)]
        #expect(try checkRegister(history).isLinearizable)
    }

    @Test func pendingPutInKeyValueHistoryMayBeSeenOnlyConsistently() throws {
        let history = [
            put("a", 1, client: 1, 0...1),
            KeyValueOperation.pending(clientID: 2, input: .put(key: "a", value: 2), callTime: 2),
            get("a", 2, client: 3, 4...5),
        ]
        #expect(try checkKeyValue(history).isLinearizable)
        #expect(try checkKeyValue(history + [get("a", 1, client: 3, 6...7)]).violation != nil)
    }

    @Test func operationCannotReturnBeforeItsCall() async {
        await #expect(processExitsWith: .failure) {
            _ = RegisterOperation(clientID: 1, input: .read, output: .read(0), callTime: 5, returnTime: 4)
        }
    }
}
