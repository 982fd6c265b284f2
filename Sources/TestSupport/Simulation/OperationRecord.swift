/// One client operation of a simulated run, in the shape a linearizability checker consumes.
///
/// Operations that never returned (their member crashed, or the proposal was lost to a leader change) have
/// `output == nil` and `returnTime == .max`: they may or may not have taken effect.
public struct OperationRecord: Sendable, Hashable {
    /// Unique per run; a put writes this id as its value, so every written value is unique.
    public var id: UInt64
    /// The member the client talked to.
    public var member: UInt64
    /// What the client asked.
    public var input: RegisterInput
    /// What it was told; `nil` when it never heard back.
    public var output: RegisterOutput?
    /// Simulated step of the invocation and of the response.
    public var callTime: UInt64
    public var returnTime: UInt64

    public init(
        id: UInt64, member: UInt64, input: RegisterInput, output: RegisterOutput?, callTime: UInt64, returnTime: UInt64
    ) {
        self.id = id
        self.member = member
        self.input = input
        self.output = output
        self.callTime = callTime
        self.returnTime = returnTime
    }
}
