import Synchronization

/// The raft-envelope cut-over index as this replica applied it (DESIGN §4, Phase 2). Thread-safe.
///
/// Set once, by the apply of the enable-raft-envelope entry (first time or replayed) or at start-up from the
/// sidecar, and never cleared: the switch is one-way. Wrap-on-propose reads it from the node's request path,
/// the apply hook from the apply loop.
public final class RaftCutover: Sendable {
    private let index = Mutex<UInt64?>(nil)

    public init() {}

    /// The cut-over index; `nil` before Phase 2.
    public var cutoverIndex: UInt64? { index.withLock { $0 } }

    /// Records the cut-over; the first index recorded stays.
    public func install(_ cutover: UInt64) {
        precondition(cutover > 0, "the cut-over is the index of a committed entry")
        index.withLock { current in
            if current == nil { current = cutover }
        }
    }
}
