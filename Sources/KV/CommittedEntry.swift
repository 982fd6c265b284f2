/// A committed Raft entry as the state machine receives it: its position and its (unwrapped) payload.
public struct CommittedEntry: Hashable, Sendable {
    public var index: UInt64
    public var term: UInt64
    /// The FSM payload; empty for a leader's no-op entry or a membership change.
    public var data: [UInt8]

    public init(index: UInt64, term: UInt64, data: [UInt8]) {
        self.index = index
        self.term = term
        self.data = data
    }
}
