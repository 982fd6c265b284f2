/// Collects a history as a simulation runs: one call when a client issues an operation, one completion
/// when it gets the answer.
///
/// Operations never completed end up pending in ``history``, which is how a client that crashed or gave
/// up is recorded: its operation may or may not have taken effect.
public struct HistoryRecorder<Input, Output> {
    /// Names an issued operation so its completion can be recorded.
    public struct Ticket: Hashable, Sendable {
        fileprivate let index: Int
    }

    private var calls: [(clientID: Int, input: Input, callTime: Int)] = []
    private var completions: [(output: Output, returnTime: Int)?] = []

    /// Creates an empty recorder.
    public init() {}

    /// The number of operations issued so far.
    public var count: Int { calls.count }

    /// Records that `clientID` issued `input` at `time`.
    public mutating func invoke(clientID: Int, input: Input, at time: Int) -> Ticket {
        calls.append((clientID, input, time))
        completions.append(nil)
        return Ticket(index: calls.count - 1)
    }

    /// Records that the operation of `ticket` returned `output` at `time`.
    ///
    /// - Precondition: the operation has not completed before, and `time` is not before its call.
    public mutating func complete(_ ticket: Ticket, output: Output, at time: Int) {
        precondition(completions[ticket.index] == nil, "An operation can complete only once.")
        precondition(time >= calls[ticket.index].callTime, "An operation cannot complete before its call.")
        completions[ticket.index] = (output, time)
    }

    /// Every operation issued so far, in issue order; those not completed are pending.
    public var history: [HistoryOperation<Input, Output>] {
        zip(calls, completions).map { call, completion in
            guard let completion else {
                return .pending(clientID: call.clientID, input: call.input, callTime: call.callTime)
            }
            return HistoryOperation(
                clientID: call.clientID,
                input: call.input,
                output: completion.output,
                callTime: call.callTime,
                returnTime: completion.returnTime
            )
        }
    }
}

extension HistoryRecorder: Sendable where Input: Sendable, Output: Sendable {}
