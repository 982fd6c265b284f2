/// The byte encoding of a ``Message`` between members (format version 1, big-endian).
///
/// The transport sends each message the core hands out in ``Ready/messages`` as one frame holding these
/// bytes; the receiver decodes the frame and gives the message to ``RaftNode/step(_:)``. The layout is
/// documented in docs/formats.md ("Raft messages on the wire"):
///
/// ```
/// off   size  field
/// 0     1     format version = 1
/// 1     1     kind (wire code, see MessageKind+Wire.swift)
/// 2     1     flags: bit0 reject, bit1 leadership transfer, bit2 snapshot chunk follows; bits 3-7 zero
/// 3     8×8   from, to, term, logTerm, index, commit, rejectHint, rejectHintTerm (u64 each)
/// 67    4     context length C (u32, ≤ maxContextBytes), then C bytes
/// 71+C  4     entry count N (u32, ≤ maxEntriesPerMessage), then N entries:
///             term u64, index u64, kind u8, data length L u32 (≤ maxEntryBytes), L bytes
/// …           if flag bit2: snapshot index u64, snapshot term u64, configuration (ConfigurationStateCodec
///             layout 1), offset u64, total bytes u64, data length D u32 (≤ maxChunkBytes), D bytes
/// ```
/// Nothing may follow; the whole message is at most ``WireLimits/maxMessageBytes``.
public enum MessageWireCodec {
    /// The format version this build writes and the only one it reads.
    public static let currentVersion: UInt8 = 1
    /// Bytes of a message with no context, no entries and no snapshot chunk.
    public static let fixedHeaderBytes = 75
    /// Bytes of one entry besides its data.
    static let entryHeaderBytes = 21
    /// Bytes of a snapshot chunk besides its configuration's member ids and its data.
    static let chunkFixedBytes = 8 + 8 + 4 + 4 + 8 + 8 + 4

    static let rejectFlag: UInt8 = 1 << 0
    static let leadershipTransferFlag: UInt8 = 1 << 1
    static let snapshotChunkFlag: UInt8 = 1 << 2
    static let knownFlags: UInt8 = rejectFlag | leadershipTransferFlag | snapshotChunkFlag

    /// Encodes `message` as one frame's bytes.
    ///
    /// - Parameter limits: the bounds every length must respect; use the same limits on every member.
    /// - Throws: ``WireCodecError/limitExceeded(field:value:limit:)`` when the message is larger than the
    ///   limits allow; nothing is encoded then.
    public static func encode(_ message: Message, limits: WireLimits = .defaults) throws(WireCodecError) -> [UInt8] {
        let size = try checkedEncodedSize(of: message, limits: limits)
        var writer = ByteWriter(capacity: size)
        writer.append(currentVersion)
        writer.append(message.kind.wireCode)
        writer.append(flags(of: message))
        for field in [
            message.from, message.to, message.term, message.logTerm, message.index, message.commit,
            message.rejectHint, message.rejectHintTerm,
        ] {
            writer.append(field)
        }
        writer.append(UInt32(message.context.count))
        writer.append(contentsOf: message.context)
        writer.append(UInt32(message.entries.count))
        for entry in message.entries {
            writer.append(entry.term)
            writer.append(entry.index)
            writer.append(entry.kind.rawValue)
            writer.append(UInt32(entry.data.count))
            writer.append(contentsOf: entry.data)
        }
        if let chunk = message.snapshotChunk { encode(chunk, into: &writer) }
        precondition(writer.bytes.count == size, "the encoded size differs from the size computed for the limits")
        return writer.bytes
    }

    private static func flags(of message: Message) -> UInt8 {
        var flags: UInt8 = 0
        if message.reject { flags |= rejectFlag }
        if message.isLeadershipTransfer { flags |= leadershipTransferFlag }
        if message.snapshotChunk != nil { flags |= snapshotChunkFlag }
        return flags
    }

    private static func encode(_ chunk: SnapshotChunk, into writer: inout ByteWriter) {
        precondition(
            ConfigurationStateCodec.currentVersion == 1,
            "wire format 1 embeds configuration layout 1; a new layout needs a new wire version")
        precondition(
            chunk.offset >= 0 && chunk.offset + chunk.data.count <= chunk.totalBytes,
            "a snapshot chunk lies outside its snapshot")
        writer.append(chunk.metadata.index)
        writer.append(chunk.metadata.term)
        ConfigurationStateCodec.encode(chunk.metadata.configuration, into: &writer)
        writer.append(UInt64(chunk.offset))
        writer.append(UInt64(chunk.totalBytes))
        writer.append(UInt32(chunk.data.count))
        writer.append(contentsOf: chunk.data)
    }

    /// The encoded size of `message`, after checking every count and length against `limits`.
    private static func checkedEncodedSize(of message: Message, limits: WireLimits) throws(WireCodecError) -> Int {
        try check("context bytes", message.context.count, limits.maxContextBytes)
        try check("entry count", message.entries.count, limits.maxEntriesPerMessage)
        var size = fixedHeaderBytes + message.context.count
        for entry in message.entries {
            try check("entry bytes", entry.data.count, limits.maxEntryBytes)
            size += entryHeaderBytes + entry.data.count
        }
        if let chunk = message.snapshotChunk {
            try check("snapshot chunk bytes", chunk.data.count, limits.maxChunkBytes)
            let configuration = chunk.metadata.configuration
            size += chunkFixedBytes + 8 * (configuration.voters.count + configuration.learners.count)
            size += chunk.data.count
        }
        try check("message bytes", size, limits.maxMessageBytes)
        return size
    }

    private static func check(_ field: String, _ value: Int, _ limit: Int) throws(WireCodecError) {
        guard value <= limit else { throw .limitExceeded(field: field, value: UInt64(value), limit: limit) }
    }
}
