/// A bounded window of the most recent log entries, kept in memory so reads of the tail touch no file.
///
/// The window is contiguous and ends at the log's last index. Entries not yet written to a file are never
/// evicted (they could not be read back), so the bounds apply to written entries only.
struct EntryCache {
    /// Bytes counted per entry on top of its data, for the byte bound.
    static let perEntryOverhead = 48

    let maxEntries: Int
    let maxBytes: Int
    private var storage: [Entry] = []
    private var head = 0
    private(set) var byteCount = 0

    init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    var count: Int { storage.count - head }

    var firstIndex: UInt64? { count > 0 ? storage[head].index : nil }

    func entry(at index: UInt64) -> Entry? {
        guard let first = firstIndex, index >= first else { return nil }
        let position = head + Int(index - first)
        return position < storage.count ? storage[position] : nil
    }

    mutating func append(_ entry: Entry) {
        if let last = storage.last, count > 0 {
            precondition(entry.index == last.index + 1, "cache appends must be contiguous")
        }
        storage.append(entry)
        byteCount += entry.data.count + Self.perEntryOverhead
    }

    /// Evicts the oldest entries while over a bound, never evicting past `writtenLastIndex`.
    mutating func evict(keepingUnwrittenAfter writtenLastIndex: UInt64) {
        while count > 0, count > maxEntries || byteCount > maxBytes, storage[head].index <= writtenLastIndex {
            byteCount -= storage[head].data.count + Self.perEntryOverhead
            head += 1
        }
        compactStorage()
    }

    /// Drops every entry at or after `index`.
    mutating func removeSuffix(from index: UInt64) {
        while count > 0, let last = storage.last, last.index >= index {
            byteCount -= last.data.count + Self.perEntryOverhead
            storage.removeLast()
        }
        compactStorage()
    }

    /// Drops every entry at or before `index`.
    mutating func removePrefix(through index: UInt64) {
        while count > 0, storage[head].index <= index {
            byteCount -= storage[head].data.count + Self.perEntryOverhead
            head += 1
        }
        compactStorage()
    }

    mutating func removeAll() {
        storage = []
        head = 0
        byteCount = 0
    }

    private mutating func compactStorage() {
        if count == 0 {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
