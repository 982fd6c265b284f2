import KV
import Raft
import Storage

/// Every size bound on a write's path, derived from the one user-facing maximum (`--max-value-bytes`), so
/// that a value the Redis parser accepts also fits a proposal, a log record, a Raft message, a forwarded
/// request and a stored row (sealed), and a larger one is refused once, at the parser, with Redis's error.
///
/// Each layer gets the value bound plus room for what it wraps around the value: the key (at most
/// ``CommandEntry/Limits/maxKeyBytes``), command and entry framing, the raft and storage envelopes (34 bytes
/// each), protobuf and message framing.
public struct SizeLimits: Sendable, Hashable {
    /// Room for everything an entry carries besides the value, beyond the key.
    static let entryFramingBytes = 64 << 10
    /// Room a Raft message or gRPC request needs around its largest entry.
    static let messageFramingBytes = 1 << 20

    /// The largest value a write may carry (`--max-value-bytes`).
    public let maxValueBytes: Int

    public init(maxValueBytes: Int) {
        precondition(maxValueBytes > 0, "maxValueBytes must be positive")
        self.maxValueBytes = maxValueBytes
    }

    /// The largest FSM payload a proposal may carry, sealed or not.
    public var maxEntryBytes: Int { maxValueBytes + CommandEntry.Limits.maxKeyBytes + Self.entryFramingBytes }

    /// The Raft core's proposal bound.
    public func raftConfiguration(id: NodeID) -> RaftConfiguration {
        RaftConfiguration(id: id, maxProposalBytes: maxEntryBytes)
    }

    /// The Raft message codec's bounds: an entry as large as a proposal, and a message around it.
    public var wireLimits: WireLimits {
        let defaults = WireLimits.defaults
        return WireLimits(
            maxEntriesPerMessage: defaults.maxEntriesPerMessage,
            maxEntryBytes: max(defaults.maxEntryBytes, maxEntryBytes),
            maxChunkBytes: defaults.maxChunkBytes, maxContextBytes: defaults.maxContextBytes,
            maxMessageBytes: max(defaults.maxMessageBytes, maxEntryBytes + Self.messageFramingBytes))
    }

    /// The durable log's bounds: one record holds the largest entry.
    public var logConfiguration: RaftLogConfiguration {
        let defaults = RaftLogConfiguration()
        let record = max(defaults.maxRecordBytes, maxEntryBytes + Self.entryFramingBytes)
        return RaftLogConfiguration(
            maxSegmentBytes: max(defaults.maxSegmentBytes, 2 * record), maxRecordBytes: record,
            maxUnsyncedBytes: max(defaults.maxUnsyncedBytes, 2 * record + Self.entryFramingBytes))
    }

    /// The transport's bounds: frames up to the largest message.
    public var transportConfiguration: RaftTransportConfiguration {
        RaftTransportConfiguration(wireLimits: wireLimits)
    }

    /// The largest gRPC request a node accepts and sends (Raft frames, forwarded proposals).
    public var maxRequestPayloadBytes: Int { wireLimits.maxMessageBytes + Self.messageFramingBytes }

    /// The store's bound on a stored body: the value with its type tag and storage envelope.
    public var storeLimits: MVCCStore.Limits {
        var limits = MVCCStore.Limits()
        limits.maxValueBytes = maxValueBytes + Self.entryFramingBytes
        return limits
    }
}
