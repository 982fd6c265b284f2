/// The counters of the Raft transport, registered in the node's ``MetricsRegistry``.
///
/// Both directions share one family per event, told apart by a `reason` label, so dashboards can sum
/// them: `elastickv_raft_transport_dropped_total{reason}` counts messages the sender gave up on,
/// `elastickv_raft_transport_rejected_frames_total` frames the receiver could not decode.
public struct RaftTransportMetrics: Sendable {
    /// Messages dropped because the peer's queue was full (the oldest non-snapshot ones go first).
    public let droppedQueueFull: Counter
    /// Messages addressed to a member with no known address.
    public let droppedUnknownPeer: Counter
    /// Messages that exceed the wire limits and could not be encoded.
    public let droppedEncoding: Counter
    /// Messages still queued when their peer was removed, readdressed or the transport shut down.
    public let droppedClosed: Counter
    /// Frames written to a peer's stream.
    public let sentFrames: Counter
    /// Frames received and handed to the node.
    public let receivedFrames: Counter
    /// Frames received that did not decode, or whose header disagrees with the message; dropped.
    public let rejectedFrames: Counter
    /// Deliver streams that ended with an error or could not be opened (each is followed by a backoff).
    public let streamFailures: Counter

    public init(registry: MetricsRegistry) {
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
