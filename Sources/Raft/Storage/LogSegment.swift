/// The in-memory index of one segment file: where each record starts and its term.
///
/// Bytes appended but not yet handed to the file live in ``unwrittenBytes``; ``writtenByteCount`` counts the
/// bytes a finished sync wrote (header included), so `writtenByteCount == 0` means the file does not exist.
struct LogSegment {
    let firstIndex: UInt64
    let fileName: String
    /// File offset of record `firstIndex + k` at position `k`.
    var offsets: [UInt32] = []
    /// Term of record `firstIndex + k` at position `k`.
    var terms: [UInt64] = []
    /// Header and records, written or not.
    var byteCount: Int
    /// Bytes on the file, as of the last finished sync.
    var writtenByteCount: Int
    /// Bytes appended since the last sync began.
    var unwrittenBytes: [UInt8] = []

    init(firstIndex: UInt64, byteCount: Int, writtenByteCount: Int) {
        self.firstIndex = firstIndex
        self.fileName = SegmentHeaderCodec.fileName(firstIndex: firstIndex)
        self.byteCount = byteCount
        self.writtenByteCount = writtenByteCount
    }

    /// The index of the last record; `firstIndex - 1` when the segment holds none.
    var lastIndex: UInt64 { firstIndex + UInt64(terms.count) - 1 }

    var fileExists: Bool { writtenByteCount > 0 }

    func contains(_ index: UInt64) -> Bool {
        index >= firstIndex && index <= lastIndex
    }

    /// Drops records from `index` on; the segment then ends at the byte where that record started.
    mutating func removeRecords(from index: UInt64) {
        precondition(contains(index), "truncation point \(index) is not in segment \(fileName)")
        precondition(unwrittenBytes.isEmpty, "truncating a segment with unwritten bytes")
        let position = Int(index - firstIndex)
        byteCount = Int(offsets[position])
        writtenByteCount = byteCount
        offsets.removeSubrange(position...)
        terms.removeSubrange(position...)
    }
}
