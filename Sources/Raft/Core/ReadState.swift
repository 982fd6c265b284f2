/// A linearizable read point: once the state machine has applied `index`, a read may answer for `context`.
public struct ReadState: Sendable, Hashable {
    /// The commit index the leader held when it confirmed, with a heartbeat quorum, that it still leads.
    public var index: UInt64
    /// The context given to ``RaftNode/readIndex(context:)``.
    public var context: [UInt8]

    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
