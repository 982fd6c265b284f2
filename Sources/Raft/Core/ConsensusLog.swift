/// The log as the core sees it: the stable part read through ``RaftStorage`` and the unstable tail (entries
/// and possibly a snapshot) handed out in ``Ready`` but not yet reported persisted.
///
/// Reads below the unstable offset go to storage, reads at or above it to the unstable tail, so the view is
/// correct even while a conflicting suffix of the stable log waits to be overwritten.
struct ConsensusLog {
    let storage: any RaftStorage
    /// Entries not yet persisted; the first has index `unstableOffset`.
    private(set) var unstableEntries: [Entry] = []
    private(set) var unstableOffset: UInt64
    /// A snapshot received from a leader and not yet persisted.
    private(set) var unstableSnapshot: Snapshot?
    /// The highest index known to be committed.
    private(set) var committed: UInt64
    /// The highest index the driver reported applied.
    var applied: UInt64

    init(storage: any RaftStorage) {
        self.storage = storage
        unstableOffset = storage.lastIndex + 1
        committed = storage.firstIndex - 1
        applied = storage.firstIndex - 1
    }

    /// The first index held as an entry; everything before is in the snapshot.
    var firstIndex: UInt64 {
        if let snapshot = unstableSnapshot { return snapshot.metadata.index + 1 }
        return storage.firstIndex
    }

    /// The index of the last entry (the snapshot's index when there are none).
    var lastIndex: UInt64 {
        if !unstableEntries.isEmpty { return unstableOffset + UInt64(unstableEntries.count) - 1 }
        if let snapshot = unstableSnapshot { return snapshot.metadata.index }
        return storage.lastIndex
    }

    var lastTerm: UInt64 {
        guard let term = term(at: lastIndex) else {
            preconditionFailure("The term of the last log index \(lastIndex) is unreadable; the log is inconsistent.")
        }
        return term
    }

    /// The term at `index`, or `nil` when the index is compacted or beyond the log.
    func term(at index: UInt64) -> UInt64? {
        if let snapshot = unstableSnapshot {
            if index == snapshot.metadata.index { return snapshot.metadata.term }
            if index < snapshot.metadata.index { return nil }
        }
        if index >= unstableOffset {
            let position = index - unstableOffset
            return position < UInt64(unstableEntries.count) ? unstableEntries[Int(position)].term : nil
        }
        if index + 1 < storage.firstIndex || index > storage.lastIndex { return nil }
        do {
            return try storage.term(at: index)
        } catch .compacted, .unavailable {
            return nil
        } catch {
            preconditionFailure("Reading the term at \(index) failed: \(error). The member must restart.")
        }
    }

    func matchesTerm(_ index: UInt64, _ term: UInt64) -> Bool { self.term(at: index) == term }

    /// Whether a log ending at (`index`, `term`) is at least as up to date as this one (§5.4.1).
    func isUpToDate(index: UInt64, term: UInt64) -> Bool {
        let ownTerm = lastTerm
        return term > ownTerm || (term == ownTerm && index >= lastIndex)
    }

    /// Entries in `low ..< high`, stopping before `maxBytes` (but returning at least one entry); `nil` when
    /// `low` is compacted.
    func entries(from low: UInt64, to high: UInt64, maxBytes: Int) -> [Entry]? {
        if low < firstIndex { return nil }
        let high = min(high, lastIndex + 1)
        if low >= high { return [] }
        var result: [Entry] = []
        var bytes = 0
        if low < unstableOffset {
            let stableHigh = min(high, unstableOffset)
            do {
                result = try storage.entries(from: low, to: stableHigh, maxBytes: maxBytes)
            } catch .compacted {
                return nil
            } catch {
                preconditionFailure("Reading entries \(low)..<\(stableHigh) failed: \(error). The member must restart.")
            }
            bytes = result.reduce(0) { $0 + $1.data.count + Entry.headerBytes }
            if result.count < Int(stableHigh - low) { return result }
        }
        var index = max(low, unstableOffset)
        while index < high {
            let entry = unstableEntries[Int(index - unstableOffset)]
            let size = entry.data.count + Entry.headerBytes
            if !result.isEmpty && bytes + size > maxBytes { break }
            result.append(entry)
            bytes += size
            index += 1
        }
        return result
    }

    /// The entry at `index`, when held.
    func entry(at index: UInt64) -> Entry? {
        entries(from: index, to: index + 1, maxBytes: Int.max)?.first
    }

    /// For a refused append at (`index`, `term`): the highest index at or below `index` whose term is at most
    /// `term`, with that term (0 when unknown) — the last place the two logs could agree.
    func conflictHint(index: UInt64, term: UInt64) -> (index: UInt64, term: UInt64) {
        var candidate = min(index, lastIndex)
        while candidate > 0 {
            guard let ownTerm = self.term(at: candidate) else { return (candidate, 0) }
            if ownTerm <= term { return (candidate, ownTerm) }
            candidate -= 1
        }
        return (0, 0)
    }

    /// Appends `entries`, replacing any unstable or stable suffix from the first one's index on.
    mutating func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        precondition(first.index > committed, "Overwriting committed entry \(first.index) would break safety.")
        let end = unstableOffset + UInt64(unstableEntries.count)
        if first.index == end {
            unstableEntries.append(contentsOf: entries)
        } else if first.index <= unstableOffset {
            unstableOffset = first.index
            unstableEntries = entries
        } else {
            unstableEntries = Array(unstableEntries[0..<Int(first.index - unstableOffset)]) + entries
        }
    }

    /// A follower's append at (`index`, `term`): returns the new last index and the entries actually written
    /// (from the first one that was missing or conflicting), or `nil` when the logs disagree at `index`.
    mutating func appendIfMatching(
        index: UInt64, term: UInt64, commit: UInt64, entries: [Entry]
    ) -> (lastNew: UInt64, appended: [Entry])? {
        guard matchesTerm(index, term) else { return nil }
        let lastNew = index + UInt64(entries.count)
        var appended: [Entry] = []
        if let conflict = entries.first(where: { !($0.index < firstIndex || matchesTerm($0.index, $0.term)) }) {
            appended = Array(entries[Int(conflict.index - index - 1)...])
            append(appended)
        }
        self.commit(to: min(commit, lastNew))
        return (lastNew, appended)
    }

    mutating func commit(to index: UInt64) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "Commit index \(index) is beyond the last log index \(lastIndex).")
        committed = index
    }

    /// Committed entries not yet applied, up to `maxBytes`.
    func nextCommittedEntries(maxBytes: Int, through limit: UInt64 = .max) -> [Entry] {
        let low = max(applied, unstableSnapshot?.metadata.index ?? 0) + 1
        let high = min(committed, limit)
        guard low <= high else { return [] }
        guard let result = entries(from: low, to: high + 1, maxBytes: maxBytes) else {
            preconditionFailure("Committed entries from \(low) were compacted before they were applied.")
        }
        return result
    }

    /// The entries through (`index`, `term`) are persisted: drop them from the unstable tail.
    mutating func stable(through index: UInt64, term: UInt64) {
        guard index >= unstableOffset, matchesTerm(index, term) else { return }
        let count = Int(index - unstableOffset + 1)
        guard count <= unstableEntries.count else { return }
        unstableEntries.removeFirst(count)
        unstableOffset = index + 1
    }

    mutating func snapshotPersisted(index: UInt64) {
        if unstableSnapshot?.metadata.index == index { unstableSnapshot = nil }
    }

    /// Replaces the whole log by `snapshot`, whose index becomes committed.
    mutating func restore(_ snapshot: Snapshot) {
        precondition(snapshot.metadata.index > committed, "Restoring a snapshot behind the commit index.")
        committed = snapshot.metadata.index
        unstableEntries = []
        unstableOffset = snapshot.metadata.index + 1
        unstableSnapshot = snapshot
    }
}
