import Raft

/// Limits and timings of the gRPC Raft transport; every bound is a named field.
public struct RaftTransportConfiguration: Sendable, Hashable {
    /// The largest gRPC request a Raft transport server accepts, and a client sends, in bytes.
    ///
    /// One frame is one encoded message plus a few bytes of protobuf framing; this is set comfortably above
    /// ``WireLimits/maxMessageBytes`` so every message the codec accepts fits. Servers hosting
    /// ``RaftTransportService`` must set `config.rpc.maxRequestPayloadSize` to at least this value.
    public var maxRequestPayloadBytes: Int { wireLimits.maxMessageBytes + (1 << 20) }
    /// The request bound with the default wire limits.
    public static let defaultMaxRequestPayloadBytes = RaftTransportConfiguration().maxRequestPayloadBytes
    /// The HTTP/2 flow-control window each side advertises. gRPC servers default to 64 KiB, which let a leader
    /// send only 64 KiB of appends to a follower per window-update round trip; 8 MiB keeps a busy stream from
    /// waiting on flow control (the client side's default).
    public static let http2WindowBytes = 8 << 20
    /// The largest HTTP/2 frame either side accepts (16 KiB by default): 1 MiB frames carry a batch of 1 KiB
    /// entries in one frame instead of dozens.
    public static let http2MaxFrameBytes = 1 << 20

    /// Messages queued for one peer before the oldest are dropped.
    public var maxQueuedMessagesPerPeer: Int
    /// Payload bytes (entries, snapshot chunk, context) queued for one peer before the oldest messages are
    /// dropped; the newest message is always kept, whatever its size.
    public var maxQueuedBytesPerPeer: Int
    /// The wait before the first reconnection attempt to a peer after a failure.
    public var initialReconnectBackoff: Duration
    /// The longest wait between reconnection attempts; the backoff doubles up to this.
    public var maxReconnectBackoff: Duration
    /// The bounds of the message codec, identical on every member.
    public var wireLimits: WireLimits

    public init(
        maxQueuedMessagesPerPeer: Int = 4096,
        maxQueuedBytesPerPeer: Int = 64 << 20,
        initialReconnectBackoff: Duration = .milliseconds(50),
        maxReconnectBackoff: Duration = .seconds(2),
        wireLimits: WireLimits = .defaults
    ) {
        precondition(
            maxQueuedMessagesPerPeer > 0 && maxQueuedBytesPerPeer > 0, "Per-peer queue limits must be positive.")
        precondition(
            initialReconnectBackoff > .zero && maxReconnectBackoff >= initialReconnectBackoff,
            "Reconnect backoffs must be positive, the maximum at least the initial one.")
        self.maxQueuedMessagesPerPeer = maxQueuedMessagesPerPeer
        self.maxQueuedBytesPerPeer = maxQueuedBytesPerPeer
        self.initialReconnectBackoff = initialReconnectBackoff
        self.maxReconnectBackoff = maxReconnectBackoff
        self.wireLimits = wireLimits
    }
}
