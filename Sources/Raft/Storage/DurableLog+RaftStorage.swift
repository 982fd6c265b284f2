import DurableIO

extension DurableLog {
    /// The first index served as an entry: one past the compaction point (the snapshot index after a restart).
    public var firstIndex: UInt64 { compactedIndex + 1 }

    /// The last appended index, synced or not (the compaction point when the log is empty).
    ///
    /// The driver syncs before it calls the core's `advance()`, so the core only sees durable entries here.
    public var lastIndex: UInt64 {
        guard let last = segments.last else { return compactedIndex }
        return max(compactedIndex, last.lastIndex)
    }

    /// The persisted hard state and the membership recorded in the newest snapshot.
    ///
    /// Configuration entries after the snapshot are in the log; the consensus core replays them itself when
    /// it restarts, so storage reports only the snapshot's membership.
    public func initialState() throws(RaftStorageError) -> (HardState, ConfigurationState) {
        (hardState, newestSnapshot?.configuration ?? ConfigurationState())
    }

    public func entries(from low: UInt64, to high: UInt64, maxBytes: Int) throws(RaftStorageError) -> [Entry] {
        guard low > compactedIndex else { throw .compacted }
        guard high <= lastIndex + 1 else { throw .unavailable }
        precondition(low <= high, "entries(from: \(low), to: \(high)) asks for a negative range")
        var result: [Entry] = []
        var totalBytes = 0
        var index = low
        while index < high {
            let entry = try entry(at: index)
            totalBytes += entry.data.count
            if !result.isEmpty && totalBytes > maxBytes { break }
            result.append(entry)
            index += 1
        }
        return result
    }

    public func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
        if index == compactedIndex { return compactedTerm }
        guard index > compactedIndex else { throw .compacted }
        guard index <= lastIndex else { throw .unavailable }
        let segment = segments[segmentPosition(containing: index)]
        return segment.terms[Int(index - segment.firstIndex)]
    }

    /// The newest durable snapshot, read back and verified; an empty snapshot before the first one.
    public func snapshot() throws(RaftStorageError) -> Snapshot {
        guard let newest = snapshotFileNames.last else { return Snapshot() }
        do throws(SnapshotReadError) {
            return try readSnapshot(named: newest)
        } catch {
            throw .io(error.description)
        }
    }

    /// One entry, from the cache or read back from its segment file and verified.
    func entry(at index: UInt64) throws(RaftStorageError) -> Entry {
        if let cached = cache.entry(at: index) { return cached }
        let segment = segments[segmentPosition(containing: index)]
        precondition(index <= writtenLastIndex, "entry \(index) is neither cached nor written to a file")
        let path = joinPath(logDirectory, segment.fileName)
        let offset = Int(segment.offsets[Int(index - segment.firstIndex)])
        let bytes: [UInt8]
        if let buffered = readBuffer, buffered.fileName == segment.fileName,
            buffered.bytes.count >= segment.writtenByteCount
        {
            bytes = buffered.bytes
        } else {
            do throws(FileSystemError) {
                bytes = try fileSystem.readFile(at: path)
            } catch {
                throw .io(error.description)
            }
            readBuffer = (segment.fileName, bytes)
        }
        let decoded: (entry: Entry, size: Int)
        do throws(StorageFormatError) {
            decoded = try LogRecordCodec.decode(bytes, at: offset, maxRecordBytes: configuration.maxRecordBytes)
        } catch {
            throw .io("\(path) offset \(offset): record \(index) no longer decodes: \(error)")
        }
        guard decoded.entry.index == index, decoded.entry.term == segment.terms[Int(index - segment.firstIndex)] else {
            throw .io("\(path) offset \(offset): record holds index \(decoded.entry.index), expected \(index)")
        }
        return decoded.entry
    }

    /// The position in ``segments`` of the segment holding `index`.
    func segmentPosition(containing index: UInt64) -> Int {
        var low = 0
        var high = segments.count - 1
        precondition(high >= 0 && segments[0].firstIndex <= index, "index \(index) precedes every segment")
        while low < high {
            let middle = (low + high + 1) / 2
            if segments[middle].firstIndex <= index { low = middle } else { high = middle - 1 }
        }
        precondition(segments[low].contains(index), "index \(index) is in no segment")
        return low
    }
}
