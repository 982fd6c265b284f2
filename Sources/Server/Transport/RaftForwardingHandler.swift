/// What the leader does with requests followers forward to it over the Raft transport's gRPC service.
///
/// The running node implements it: ``forward(payload:)`` proposes an FSM payload and answers once it is
/// applied; ``readIndex()`` runs the ReadIndex protocol and answers with the read point. A member that is
/// not the leader answers with a refusal naming the leader it knows, so the follower can retry there.
public protocol RaftForwardingHandler: Sendable {
    /// Proposes `payload` (an FSM payload, opcode first) and waits until it is applied.
    func forward(payload: [UInt8]) async -> ForwardResult
    /// A linearizable read index from the leader.
    func readIndex() async -> ReadIndexResult
}
