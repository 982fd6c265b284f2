/// The leader's answer to a forwarded write.
public enum ForwardResult: Sendable, Hashable {
    /// The payload was committed at `index` in `term` and applied; `result` is the encoded command results.
    case applied(index: UInt64, term: UInt64, result: [UInt8])
    /// The payload was not proposed (or its outcome is unknown); see the refusal's reason.
    case refused(RaftForwardingRefusal)
}
