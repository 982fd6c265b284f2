import TestSupport
import Testing

@Suite struct HistoryRecorderTests {
    @Test func recordsCompletedAndPendingOperations() {
        var recorder = HistoryRecorder<KeyValue.Input, KeyValue.Output>()
        let first = recorder.invoke(clientID: 1, input: .put(key: "a", value: 1), at: 0)
        _ = recorder.invoke(clientID: 2, input: .put(key: "a", value: 2), at: 1)
        let third = recorder.invoke(clientID: 3, input: .get(key: "a"), at: 2)
        recorder.complete(third, output: .read(2), at: 6)
        recorder.complete(first, output: .ok, at: 4)
        #expect(recorder.count == 3)
        #expect(
            recorder.history == [
                put("a", 1, client: 1, 0...4),
                .pending(clientID: 2, input: .put(key: "a", value: 2), callTime: 1),
                get("a", 2, client: 3, 2...6),
            ])
    }

    @Test func recordedHistoryIsChecked() throws {
        var recorder = HistoryRecorder<KeyValue.Input, KeyValue.Output>()
        let put = recorder.invoke(clientID: 1, input: .put(key: "a", value: 1), at: 0)
        recorder.complete(put, output: .ok, at: 3)
        let get = recorder.invoke(clientID: 2, input: .get(key: "a"), at: 4)
        recorder.complete(get, output: .read(nil), at: 5)
        let checker = LinearizabilityChecker(model: KeyValue())
        #expect(try checker.check(recorder.history).violation != nil)
    }

    @Test func completingTwiceTraps() async {
        await #expect(processExitsWith: .failure) {
            var recorder = HistoryRecorder<Register.Input, Register.Output>()
            let ticket = recorder.invoke(clientID: 1, input: .read, at: 0)
            recorder.complete(ticket, output: .read(0), at: 1)
            recorder.complete(ticket, output: .read(0), at: 2)
        }
    }
}
