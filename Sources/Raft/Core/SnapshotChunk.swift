/// A chunk of a snapshot in flight from a leader to a follower.
///
/// A snapshot travels as consecutive chunks of at most ``RaftConfiguration/maxSnapshotChunkBytes``; the
/// follower reassembles them and installs the snapshot only when the chunk with `isLast` arrives in order.
public struct SnapshotChunk: Sendable, Hashable {
    /// The snapshot this chunk belongs to.
    public var metadata: SnapshotMetadata
    /// Where `data` starts inside the snapshot's data.
    public var offset: Int
    /// The full size of the snapshot's data.
    public var totalBytes: Int
    /// The bytes of this chunk.
    public var data: [UInt8]

    /// Whether this chunk completes the snapshot.
    public var isLast: Bool { offset + data.count == totalBytes }

    public init(metadata: SnapshotMetadata, offset: Int, totalBytes: Int, data: [UInt8]) {
        self.metadata = metadata
        self.offset = offset
        self.totalBytes = totalBytes
        self.data = data
    }
}
