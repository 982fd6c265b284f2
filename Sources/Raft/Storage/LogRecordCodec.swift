import DurableIO
/// Encodes and decodes one log record: `length ‖ CRC-32C ‖ body`.
///
/// ```
/// off  size  field
/// 0    4     body length L (u32), 17 ≤ L ≤ maxRecordBytes
/// 4    4     CRC-32C over bytes 0..<4 (the length) followed by the body
/// 8    8     term (u64)
/// 16   8     index (u64)
/// 24   1     kind (EntryKind raw value)
/// 25   L-17  data
/// ```
/// The checksum covers the length so a flipped length bit is caught instead of sending the scan to a wrong
/// offset. Records carry no version of their own: the segment header's version governs them.
enum LogRecordCodec {
    /// Bytes before the body: length and checksum.
    static let prefixSize = 8
    /// Body bytes before the entry data: term, index, kind.
    static let bodyHeaderSize = 17
    /// The smallest possible record (an entry with empty data).
    static let minimumRecordSize = prefixSize + bodyHeaderSize

    /// The encoded size of `entry`.
    static func encodedSize(of entry: Entry) -> Int {
        minimumRecordSize + entry.data.count
    }

    static func encode(_ entry: Entry, into bytes: inout [UInt8]) {
        let bodyLength = bodyHeaderSize + entry.data.count
        precondition(bodyLength <= Int(UInt32.max), "record body does not fit a u32 length")
        let start = bytes.count
        bytes.appendBigEndian(UInt32(bodyLength))
        bytes.appendBigEndian(UInt32(0))
        bytes.appendBigEndian(entry.term)
        bytes.appendBigEndian(entry.index)
        bytes.append(entry.kind.rawValue)
        bytes.append(contentsOf: entry.data)
        var crc = CRC32C.update(0, bytes[start..<(start + 4)])
        crc = CRC32C.update(crc, bytes[(start + prefixSize)...])
        for offset in 0..<4 {
            bytes[start + 4 + offset] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * offset))
        }
    }

    /// Decodes the record at `offset` in `bytes`.
    ///
    /// - Returns: the entry and the record's total size.
    /// - Throws: ``StorageFormatError/truncated(needed:available:)`` when the record runs past the end,
    ///   ``StorageFormatError/checksumMismatch(stored:computed:)``, or ``StorageFormatError/invalidField(_:)``
    ///   for an impossible length or an unknown kind.
    static func decode(
        _ bytes: [UInt8],
        at offset: Int,
        maxRecordBytes: Int
    ) throws(StorageFormatError) -> (entry: Entry, size: Int) {
        let available = bytes.count - offset
        guard available >= prefixSize else { throw .truncated(needed: prefixSize, available: max(0, available)) }
        let bodyLength = Int(readBigEndianUInt32(bytes, at: offset))
        guard bodyLength >= bodyHeaderSize, bodyLength + prefixSize <= maxRecordBytes else {
            throw .invalidField("record body length \(bodyLength)")
        }
        guard available >= prefixSize + bodyLength else {
            throw .truncated(needed: prefixSize + bodyLength, available: available)
        }
        let stored = readBigEndianUInt32(bytes, at: offset + 4)
        let bodyStart = offset + prefixSize
        let bodyEnd = bodyStart + bodyLength
        let computed = CRC32C.update(CRC32C.update(0, bytes[offset..<(offset + 4)]), bytes[bodyStart..<bodyEnd])
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        guard let kind = EntryKind(rawValue: bytes[bodyStart + 16]) else {
            throw .invalidField("entry kind \(bytes[bodyStart + 16])")
        }
        let entry = Entry(
            term: readBigEndianUInt64(bytes, at: bodyStart),
            index: readBigEndianUInt64(bytes, at: bodyStart + 8),
            kind: kind,
            data: Array(bytes[(bodyStart + bodyHeaderSize)..<bodyEnd])
        )
        return (entry, prefixSize + bodyLength)
    }

    /// Whether a valid record whose index lies in `indexRange` starts anywhere in `bytes[start...]`.
    ///
    /// Recovery uses this to tell a torn tail (nothing valid after the first bad record) from corruption in
    /// the middle of the log (valid records follow a bad one). The index filter makes the byte-by-byte
    /// search cheap: a checksum is computed only where the length and index are plausible.
    static func containsValidRecord(
        in bytes: [UInt8],
        from start: Int,
        indexRange: ClosedRange<UInt64>,
        maxRecordBytes: Int
    ) -> Bool {
        var position = start
        while bytes.count - position >= minimumRecordSize {
            let bodyLength = Int(readBigEndianUInt32(bytes, at: position))
            if bodyLength >= bodyHeaderSize, bodyLength + prefixSize <= maxRecordBytes,
                position + prefixSize + bodyLength <= bytes.count,
                indexRange.contains(readBigEndianUInt64(bytes, at: position + prefixSize + 8)),
                (try? decode(bytes, at: position, maxRecordBytes: maxRecordBytes)) != nil
            {
                return true
            }
            position += 1
        }
        return false
    }
}
