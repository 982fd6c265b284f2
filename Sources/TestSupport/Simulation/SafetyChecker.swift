import Raft

/// Checks Raft's safety properties over a whole run, from what members append, apply and claim.
///
/// * Election safety: at most one leader per term.
/// * Log matching: an (index, term) pair identifies one entry and one predecessor term, so two logs that
///   share an entry share the whole prefix before it (checked on every entry as it is appended).
/// * Leader completeness: a leader of term T holds every entry committed in an earlier term.
/// * State-machine safety: no two members apply different entries, or reach different states, at an index.
final class SafetyChecker {
    private struct AppendedEntry {
        var previousTerm: UInt64?
        var digest: UInt64
    }

    private var leaderOfTerm: [UInt64: NodeID] = [:]
    private var appended: [UInt64: [UInt64: AppendedEntry]] = [:]
    private var committed: [UInt64: (term: UInt64, digest: UInt64)] = [:]
    private var stateAtIndex: [UInt64: UInt64] = [:]
    /// Number of distinct (term, leader) pairs seen.
    private(set) var electionCount = 0

    /// Election safety, and leader completeness for each leader seen for the first time.
    func checkLeader(_ member: NodeID, core: RaftNode) throws(SafetyViolation) {
        guard core.role == .leader else { return }
        if let known = leaderOfTerm[core.term] {
            if known != member {
                throw SafetyViolation(reason: "election safety: members \(known) and \(member) lead term \(core.term)")
            }
            return
        }
        leaderOfTerm[core.term] = member
        electionCount += 1
        for (index, entry) in committed {
            try checkHolds(core, member: member, index: index, term: entry.term)
        }
    }

    private func checkHolds(_ core: RaftNode, member: NodeID, index: UInt64, term: UInt64) throws(SafetyViolation) {
        guard index >= core.firstIndex else { return }
        let held = core.logTerm(at: index)
        if held != term {
            throw SafetyViolation(
                reason: "leader completeness: leader \(member) of term \(core.term) holds term "
                    + "\(held.map(String.init) ?? "none") at committed index \(index) (term \(term))")
        }
    }

    /// Log matching, for entries a member is about to persist; `previousTerm` is the term it holds before them.
    func checkAppended(_ member: NodeID, entries: [Entry], previousTerm: UInt64?) throws(SafetyViolation) {
        var previous = previousTerm
        for entry in entries {
            let digest = Self.digest(entry)
            if let known = appended[entry.index]?[entry.term] {
                if known.digest != digest {
                    throw SafetyViolation(
                        reason: "log matching: member \(member) holds a different entry at index \(entry.index) "
                            + "term \(entry.term)")
                }
                if let knownPrevious = known.previousTerm, let previous, knownPrevious != previous {
                    throw SafetyViolation(
                        reason: "log matching: member \(member)'s entry before index \(entry.index) term "
                            + "\(entry.term) has term \(previous), another member's has \(knownPrevious)")
                }
                if known.previousTerm == nil && previous != nil {
                    appended[entry.index]?[entry.term]?.previousTerm = previous
                }
            } else {
                appended[entry.index, default: [:]][entry.term] = AppendedEntry(previousTerm: previous, digest: digest)
            }
            previous = entry.term
        }
    }

    /// State-machine safety for one applied entry, and leader completeness for entries newly known committed.
    func checkApplied(
        _ member: NodeID, entry: Entry, stateDigest: UInt64, leaders: [(NodeID, RaftNode)]
    ) throws(SafetyViolation) {
        let digest = Self.digest(entry)
        if let known = committed[entry.index] {
            if known.term != entry.term || known.digest != digest {
                throw SafetyViolation(
                    reason: "state-machine safety: member \(member) applied term \(entry.term) at index "
                        + "\(entry.index), another member term \(known.term)")
            }
        } else {
            committed[entry.index] = (entry.term, digest)
            for (leader, core) in leaders where core.term > entry.term {
                try checkHolds(core, member: leader, index: entry.index, term: entry.term)
            }
        }
        try checkState(member, index: entry.index, stateDigest: stateDigest)
    }

    /// State-machine safety at a snapshot (or applied) index: every member reaches the same state there.
    func checkState(_ member: NodeID, index: UInt64, stateDigest: UInt64) throws(SafetyViolation) {
        if let known = stateAtIndex[index], known != stateDigest {
            throw SafetyViolation(
                reason: "state-machine safety: member \(member) has a different state at index \(index)")
        }
        stateAtIndex[index] = stateDigest
    }

    /// The number of distinct committed indices seen.
    var committedCount: Int { committed.count }

    static func digest(_ entry: Entry) -> UInt64 {
        fnv1a([entry.kind.rawValue] + entry.data)
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
