import Raft

/// Checks Raft's safety properties over a whole run, from what members append, apply and claim.
///
/// * Election safety: at most one leader per term.
/// * Log matching: an (index, term) pair identifies one entry and one predecessor term, so two logs that
///   share an entry share the whole prefix before it (checked on every entry as it is appended).
/// * Leader completeness: an entry committed in term T is in the log of every leader of a term after T.
///   The term an entry was committed in is bounded from above by observations: a leader whose commit index
///   covers it, or a member applying it (it learned the commit index in its current term). A leader whose
///   term exceeds that bound must hold the entry.
/// * State-machine safety: no two members apply different entries, or reach different states, at an index.
final class SafetyChecker {
    private struct AppendedEntry {
        var previousTerm: UInt64?
        var digest: UInt64
    }

    /// A committed entry: its term, the smallest term known to have committed it, its digest once applied.
    private struct CommittedEntry {
        var term: UInt64
        var commitTermBound: UInt64
        var digest: UInt64?
    }

    private var leaderOfTerm: [UInt64: NodeID] = [:]
    private var appended: [UInt64: [UInt64: AppendedEntry]] = [:]
    private var committed: [UInt64: CommittedEntry] = [:]
    private var stateAtIndex: [UInt64: UInt64] = [:]
    /// The commit index last seen for each (member, term) while it led.
    private var leaderCommitSeen: [NodeID: (term: UInt64, commit: UInt64)] = [:]
    /// Number of distinct (term, leader) pairs seen.
    private(set) var electionCount = 0

    /// Election safety; leader completeness for a leader seen for the first time; and records what the
    /// leader's commit index newly covers.
    func checkLeader(_ member: NodeID, core: RaftNode, leaders: [(NodeID, RaftNode)]) throws(SafetyViolation) {
        guard core.role == .leader else { return }
        if let known = leaderOfTerm[core.term] {
            if known != member {
                throw SafetyViolation(reason: "election safety: members \(known) and \(member) lead term \(core.term)")
            }
        } else {
            leaderOfTerm[core.term] = member
            electionCount += 1
            for (index, entry) in committed where entry.commitTermBound < core.term {
                try checkHolds(core, member: member, index: index, term: entry.term)
            }
        }
        let seen = leaderCommitSeen[member].flatMap { $0.term == core.term ? $0.commit : nil } ?? 0
        leaderCommitSeen[member] = (core.term, core.commitIndex)
        var index = max(seen, core.firstIndex) + (seen >= core.firstIndex ? 1 : 0)
        while index <= core.commitIndex {
            if let term = core.logTerm(at: index) {
                try recordCommitted(member, index: index, term: term, bound: core.term, digest: nil, leaders: leaders)
            }
            index += 1
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

    /// Records that the entry (`index`, `term`) is committed, in a term at most `bound`; checks that it agrees
    /// with what is known and that every current leader of a later term holds it.
    private func recordCommitted(
        _ member: NodeID, index: UInt64, term: UInt64, bound: UInt64, digest: UInt64?, leaders: [(NodeID, RaftNode)]
    ) throws(SafetyViolation) {
        var entry = committed[index] ?? CommittedEntry(term: term, commitTermBound: .max, digest: nil)
        if entry.term != term || (digest != nil && entry.digest != nil && entry.digest != digest) {
            throw SafetyViolation(
                reason: "state-machine safety: member \(member) has term \(term) committed at index \(index), "
                    + "another member term \(entry.term)")
        }
        let isTighter = bound < entry.commitTermBound
        entry.commitTermBound = min(entry.commitTermBound, bound)
        entry.digest = entry.digest ?? digest
        committed[index] = entry
        guard isTighter else { return }
        for (leader, core) in leaders where core.term > entry.commitTermBound {
            try checkHolds(core, member: leader, index: index, term: term)
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

    /// State-machine safety for one applied entry (applied by `member` while in `memberTerm`), and leader
    /// completeness for it.
    func checkApplied(
        _ member: NodeID, memberTerm: UInt64, entry: Entry, stateDigest: UInt64, leaders: [(NodeID, RaftNode)]
    ) throws(SafetyViolation) {
        try recordCommitted(
            member, index: entry.index, term: entry.term, bound: memberTerm, digest: Self.digest(entry),
            leaders: leaders)
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
