/// The leader's answer to a read-index request.
public enum ReadIndexResult: Sendable, Hashable {
    /// Reads are linearizable once the asking member has applied through `index`.
    case index(UInt64)
    /// No read index was established; see the refusal's reason.
    case refused(RaftForwardingRefusal)
}
