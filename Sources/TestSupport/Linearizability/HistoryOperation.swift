/// One client operation of a concurrent history: what was asked, what came back, and when.
///
/// Times are integers on one clock shared by every client of the history (simulated time). Intervals are
/// closed: operation `a` happens before operation `b` only when `a.returnTime < b.callTime`, so two
/// operations that touch at one instant are concurrent. That is the cautious reading for a simulator that
/// records several events in the same tick: it can hide a violation but never invents one.
///
/// An operation that never returned (its client crashed or timed out) is *pending*: it has no output and
/// its return time is unbounded. The checker may linearize it anywhere after its call, or leave it out.
/// The client id is only used in diagnostics; the checker does not require a client's operations to be
/// sequential, so a client may issue a new operation after one of its own operations timed out.
public struct HistoryOperation<Input, Output> {
    /// The client that issued the operation, for diagnostics.
    public let clientID: Int
    /// What the client asked for.
    public let input: Input
    /// What the client was told, or `nil` when the operation never returned.
    public let output: Output?
    /// When the client issued the operation.
    public let callTime: Int
    /// When the client received the answer, or `nil` when the operation never returned.
    public let returnTime: Int?

    /// Creates an operation that returned.
    ///
    /// - Precondition: `returnTime >= callTime`.
    public init(clientID: Int, input: Input, output: Output, callTime: Int, returnTime: Int) {
        precondition(
            returnTime >= callTime,
            "An operation cannot return (\(returnTime)) before its call (\(callTime))."
        )
        self.clientID = clientID
        self.input = input
        self.output = output
        self.callTime = callTime
        self.returnTime = returnTime
    }

    private init(pendingClientID clientID: Int, input: Input, callTime: Int) {
        self.clientID = clientID
        self.input = input
        self.output = nil
        self.callTime = callTime
        self.returnTime = nil
    }

    /// Creates an operation that never returned: it may or may not have taken effect.
    public static func pending(clientID: Int, input: Input, callTime: Int) -> Self {
        Self(pendingClientID: clientID, input: input, callTime: callTime)
    }

    /// Whether the operation never returned.
    public var isPending: Bool { returnTime == nil }
}

extension HistoryOperation: Sendable where Input: Sendable, Output: Sendable {}
extension HistoryOperation: Equatable where Input: Equatable, Output: Equatable {}
extension HistoryOperation: Hashable where Input: Hashable, Output: Hashable {}
