/// The bounds the Raft message codec enforces on every length it writes or reads.
///
/// A decoder facing bytes from the network checks each count against these limits, and against the bytes
/// actually left, before it allocates anything, so a corrupt or hostile length cannot make it reserve
/// gigabytes. The encoder checks the same limits, so a message this build sends is one its peers accept
/// when they run with the same limits. The defaults leave room above the core's defaults
/// (``RaftConfiguration/maxEntriesPerAppend`` 256, ``RaftConfiguration/maxProposalBytes`` 4 MiB,
/// ``RaftConfiguration/maxSnapshotChunkBytes`` 1 MiB) and keep one encoded message within
/// `maxMessageBytes`.
public struct WireLimits: Sendable, Hashable {
    /// The most entries one message may carry.
    public var maxEntriesPerMessage: Int
    /// The largest payload (``Entry/data``) of one entry, in bytes.
    public var maxEntryBytes: Int
    /// The largest ``SnapshotChunk/data`` of one message, in bytes.
    public var maxChunkBytes: Int
    /// The largest read-index ``Message/context``, in bytes.
    public var maxContextBytes: Int
    /// The largest encoded message, in bytes; the transport sizes its frames from it.
    public var maxMessageBytes: Int

    /// Limits that accept every message the core sends with its default configuration.
    public static let defaults = WireLimits()

    public init(
        maxEntriesPerMessage: Int = 4096,
        maxEntryBytes: Int = (4 << 20) + (64 << 10),
        maxChunkBytes: Int = 4 << 20,
        maxContextBytes: Int = 64 << 10,
        maxMessageBytes: Int = 8 << 20
    ) {
        precondition(
            maxEntriesPerMessage >= 0 && maxEntriesPerMessage <= Int(UInt32.max),
            "maxEntriesPerMessage must fit the u32 entry count.")
        precondition(maxEntryBytes >= 0 && maxEntryBytes <= Int(UInt32.max), "maxEntryBytes must fit a u32 length.")
        precondition(maxChunkBytes >= 0 && maxChunkBytes <= Int(UInt32.max), "maxChunkBytes must fit a u32 length.")
        precondition(
            maxContextBytes >= 0 && maxContextBytes <= Int(UInt32.max),
            "maxContextBytes must fit a u32 length.")
        precondition(
            maxMessageBytes >= MessageWireCodec.fixedHeaderBytes,
            "maxMessageBytes must hold at least the fixed header.")
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxEntryBytes = maxEntryBytes
        self.maxChunkBytes = maxChunkBytes
        self.maxContextBytes = maxContextBytes
        self.maxMessageBytes = maxMessageBytes
    }
}
