extension MessageWireCodec {
    /// Decodes one frame's bytes into a message.
    ///
    /// Every length is checked against `limits` and against the bytes left before anything is allocated,
    /// and the input must end exactly where the message does.
    ///
    /// - Parameter limits: the bounds every length must respect; use the same limits on every member.
    /// - Throws: ``WireCodecError`` naming what is wrong with the bytes.
    public static func decode(_ bytes: [UInt8], limits: WireLimits = .defaults) throws(WireCodecError) -> Message {
        guard bytes.count <= limits.maxMessageBytes else {
            throw .limitExceeded(field: "message bytes", value: UInt64(bytes.count), limit: limits.maxMessageBytes)
        }
        var reader = WireReader(bytes)
        let version = try reader.readUInt8()
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        let kindCode = try reader.readUInt8()
        guard let kind = MessageKind(wireCode: kindCode) else { throw .unknownMessageKind(kindCode) }
        let flags = try reader.readUInt8()
        guard flags & ~knownFlags == 0 else { throw .reservedFlags(flags) }
        var message = Message(kind: kind, from: 0, to: 0, term: 0)
        message.from = try reader.readUInt64()
        message.to = try reader.readUInt64()
        message.term = try reader.readUInt64()
        message.logTerm = try reader.readUInt64()
        message.index = try reader.readUInt64()
        message.commit = try reader.readUInt64()
        message.rejectHint = try reader.readUInt64()
        message.rejectHintTerm = try reader.readUInt64()
        message.reject = flags & rejectFlag != 0
        message.isLeadershipTransfer = flags & leadershipTransferFlag != 0
        message.context = try reader.readLengthPrefixedBytes(field: "context bytes", limit: limits.maxContextBytes)
        message.entries = try decodeEntries(from: &reader, limits: limits)
        if flags & snapshotChunkFlag != 0 {
            message.snapshotChunk = try decodeChunk(from: &reader, limits: limits)
        }
        try reader.requireEnd()
        return message
    }

    private static func decodeEntries(
        from reader: inout WireReader,
        limits: WireLimits
    ) throws(WireCodecError) -> [Entry] {
        let count = try reader.readUInt32()
        guard UInt64(count) <= UInt64(limits.maxEntriesPerMessage) else {
            throw .limitExceeded(field: "entry count", value: UInt64(count), limit: limits.maxEntriesPerMessage)
        }
        try reader.require(Int(count) * entryHeaderBytes)
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            let term = try reader.readUInt64()
            let index = try reader.readUInt64()
            let kindByte = try reader.readUInt8()
            guard let kind = EntryKind(rawValue: kindByte) else { throw .unknownEntryKind(kindByte) }
            let data = try reader.readLengthPrefixedBytes(field: "entry bytes", limit: limits.maxEntryBytes)
            entries.append(Entry(term: term, index: index, kind: kind, data: data))
        }
        return entries
    }

    private static func decodeChunk(
        from reader: inout WireReader,
        limits: WireLimits
    ) throws(WireCodecError) -> SnapshotChunk {
        let index = try reader.readUInt64()
        let term = try reader.readUInt64()
        let configuration = try reader.readConfiguration()
        let offset = try reader.readUInt64()
        let totalBytes = try reader.readUInt64()
        guard totalBytes <= UInt64(Int.max) else { throw .invalidField("snapshot total bytes \(totalBytes)") }
        guard offset <= totalBytes else {
            throw .invalidField("snapshot chunk offset \(offset) beyond total bytes \(totalBytes)")
        }
        let data = try reader.readLengthPrefixedBytes(field: "snapshot chunk bytes", limit: limits.maxChunkBytes)
        guard UInt64(data.count) <= totalBytes - offset else {
            throw .invalidField("snapshot chunk of \(data.count) bytes at \(offset) ends beyond \(totalBytes)")
        }
        let metadata = SnapshotMetadata(index: index, term: term, configuration: configuration)
        return SnapshotChunk(metadata: metadata, offset: Int(offset), totalBytes: Int(totalBytes), data: data)
    }
}
