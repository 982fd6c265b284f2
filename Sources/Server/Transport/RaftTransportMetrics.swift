import Synchronization

/// The counters of the Raft transport, registered in the node's ``MetricsRegistry``.
///
/// Both directions share one family per event, told apart by a `reason` label, so dashboards can sum
/// them: `elastickv_raft_transport_dropped_total{reason}` counts messages the sender gave up on,
/// `elastickv_raft_transport_rejected_frames_total` frames the receiver could not decode.
public struct RaftTransportMetrics: Sendable {
    /// Messages dropped because the peer's queue was full (the oldest non-snapshot ones go first).
    public let droppedQueueFull: MetricCounter
    /// Messages addressed to a member with no known address.
    public let droppedUnknownPeer: MetricCounter
    /// Messages that exceed the wire limits and could not be encoded.
    public let droppedEncoding: MetricCounter
    /// Messages still queued when their peer was removed, readdressed or the transport shut down.
    public let droppedClosed: MetricCounter
    /// Frames written to a peer's stream.
    public let sentFrames: MetricCounter
    /// Frames received and handed to the node.
    public let receivedFrames: MetricCounter
    /// Frames received that did not decode, or whose header disagrees with the message; dropped.
    public let rejectedFrames: MetricCounter
    /// Deliver streams that ended with an error or could not be opened (each is followed by a backoff).
    public let streamFailures: MetricCounter

    /// The registry the counters live in (tests read them back through it).
    public let registry: MetricsRegistry

    public init(registry: MetricsRegistry) {
        self.registry = registry
        let dropped = "elastickv_raft_transport_dropped_total"
        let droppedHelp = "Raft messages the transport dropped before sending them, by reason."
        droppedQueueFull = registry.counter(dropped, help: droppedHelp, labels: ["reason": "queue_full"])
        droppedUnknownPeer = registry.counter(dropped, help: droppedHelp, labels: ["reason": "unknown_peer"])
        droppedEncoding = registry.counter(dropped, help: droppedHelp, labels: ["reason": "encoding"])
        droppedClosed = registry.counter(dropped, help: droppedHelp, labels: ["reason": "closed"])
        sentFrames = registry.counter(
            "elastickv_raft_transport_sent_frames_total", help: "Raft frames written to peers' streams.")
        receivedFrames = registry.counter(
            "elastickv_raft_transport_received_frames_total", help: "Raft frames received and handed to the node.")
        rejectedFrames = registry.counter(
            "elastickv_raft_transport_rejected_frames_total", help: "Raft frames received that did not decode.")
        streamFailures = registry.counter(
            "elastickv_raft_transport_stream_failures_total",
            help: "Deliver streams to peers that failed or could not be opened.")
    }
}

/// Frames sent or received on one stream, for its summary and its reconnect back-off.
final class FrameTally: Sendable {
    private let count = Atomic<UInt64>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: UInt64 { count.load(ordering: .relaxed) }
}
