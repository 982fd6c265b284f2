/// The Raft consensus core of one member: a synchronous state machine with no I/O, no clock and no threads.
///
/// The driver owns the loop. It calls ``tick()`` at a fixed interval, ``step(_:)`` for every message that
/// arrives, and the request methods (``propose(_:)``, ``proposeConfigurationChange(_:)``,
/// ``transferLeadership(to:)``, ``readIndex(context:)``) for clients. Whenever ``hasReady`` is true it takes
/// ``ready()``, persists, sends and applies what the batch says in the order documented on ``Ready``, then
/// calls ``advance(_:)``. All randomness (election timeouts) comes from the injected generator, so a seeded
/// generator and a scripted sequence of calls always give the same behaviour.
///
/// Not thread-safe: one driver calls it from one place at a time.
public final class RaftNode {
    public let configuration: RaftConfiguration
    var random: any RandomNumberGenerator
    var log: ConsensusLog

    /// The member's current term.
    public internal(set) var term: UInt64 = 0
    /// The candidate this member voted for in ``term``; 0 when none.
    public internal(set) var vote: NodeID = 0
    /// The leader of ``term`` as far as this member knows; 0 when unknown.
    var leaderID: NodeID = 0
    /// The member's current role.
    public internal(set) var role: RaftRole = .follower

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var votes: [NodeID: Bool] = [:]
    var progress: [NodeID: ReplicationProgress] = [:]
    /// On a leader: the members that answered during the last completed check-quorum period.
    var activeInLastQuorumPeriod: Set<NodeID> = []
    var outbox: [Message] = []
    var readStates: [ReadState] = []
    var pendingReads: [PendingRead] = []
    /// The member leadership is being handed to, while a transfer is under way.
    var transferTarget: NodeID?
    /// The index of the empty entry this member appended when it became leader.
    var leaderTermStartIndex: UInt64 = 0
    var persistedHardState: HardState
    /// The membership as of the entry before the first log entry (the snapshot's).
    var baseConfiguration: ConfigurationState
    /// Configuration entries in the log, in index order, each with the membership it produces.
    var configurationHistory: [(index: UInt64, state: ConfigurationState)] = []
    /// A snapshot being reassembled from chunks.
    var incomingSnapshot: (metadata: SnapshotMetadata, data: [UInt8])?
    /// Committed entries above this index are not handed out for applying: the driver paused apply (for
    /// example until a precondition of its state machine holds). Persisting, voting and replication go on.
    public var applyLimit: UInt64 = .max

    /// A read-index request waiting for a heartbeat quorum.
    struct PendingRead {
        var context: [UInt8]
        var index: UInt64
        /// The follower that forwarded the request; 0 when it was made on the leader itself.
        var requester: NodeID
        var acknowledgements: Set<NodeID>
    }

    /// Starts (or restarts) a member from what `storage` holds.
    ///
    /// The membership is the snapshot's (or, for a storage that has no snapshot yet, the configuration that
    /// `initialState()` reports) with every configuration entry of the log applied on top, since changes take
    /// effect when appended.
    ///
    /// - Parameters:
    ///   - configuration: identity, timing and limits.
    ///   - storage: the stable log; the core only reads it.
    ///   - random: drives the randomized election timeout.
    ///   - appliedIndex: the index the state machine already reflects, for state machines that persist it;
    ///     by default the snapshot's index, so committed entries after it are handed out again.
    /// - Throws: the storage's error when its initial state cannot be read.
    public init(
        configuration: RaftConfiguration, storage: any RaftStorage, random: any RandomNumberGenerator,
        appliedIndex: UInt64 = 0
    ) throws(RaftStorageError) {
        configuration.validate()
        self.configuration = configuration
        self.random = random
        log = ConsensusLog(storage: storage)
        let (hardState, reportedConfiguration) = try storage.initialState()
        let snapshot = try storage.snapshot()
        baseConfiguration = snapshot.metadata.configuration
        if snapshot.metadata.index == 0 && baseConfiguration.members.isEmpty {
            baseConfiguration = reportedConfiguration
        }
        persistedHardState = hardState
        term = hardState.term
        vote = hardState.vote
        precondition(
            hardState.commit <= log.lastIndex,
            "Persisted commit index \(hardState.commit) is past the last log index \(log.lastIndex).")
        log.commit(to: max(hardState.commit, snapshot.metadata.index))
        precondition(appliedIndex <= log.committed, "Applied index \(appliedIndex) is past the commit index.")
        // The state machine starts from the snapshot, which may be newer than the first log entry kept.
        log.applied = max(log.applied, snapshot.metadata.index, appliedIndex)
        loadConfigurationHistory()
        becomeFollower(term: term, leader: 0)
    }

    /// This member's id.
    public var id: NodeID { configuration.id }

    /// The leader of the current term, when known.
    public var leader: NodeID? { leaderID == 0 ? nil : leaderID }

    /// The highest index known to be committed.
    public var commitIndex: UInt64 { log.committed }

    /// The highest index the driver reported applied through ``advance(_:)``.
    public var appliedIndex: UInt64 { log.applied }

    /// The first index still held as an entry.
    public var firstIndex: UInt64 { log.firstIndex }

    /// The index of the last log entry, persisted or not.
    public var lastIndex: UInt64 { log.lastIndex }

    /// The term of the entry at `index`, or `nil` when compacted or not in the log.
    public func logTerm(at index: UInt64) -> UInt64? { log.term(at: index) }

    /// The entry at `index`, or `nil` when compacted or not in the log.
    public func logEntry(at index: UInt64) -> Entry? { log.entry(at: index) }

    /// Whether this member leads and has applied an entry of its own term, so reads and proposals are safe.
    ///
    /// Until then a new leader may not know which entries of earlier terms are committed (§8 of the paper).
    public var isReadyToServe: Bool {
        role == .leader && leaderTermStartIndex > 0 && log.applied >= leaderTermStartIndex
    }

    /// Advances logical time by one tick: followers and candidates may start an election, a leader sends
    /// heartbeats and, with check-quorum, steps down when a quorum has gone quiet.
    public func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                startElection(isLeadershipTransfer: false)
            }
        }
    }

    private func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= configuration.electionTimeoutTicks {
            electionElapsed = 0
            if configuration.checkQuorum && !hasActiveQuorum() {
                becomeFollower(term: term, leader: 0)
                return
            }
            transferTarget = nil
        }
        if heartbeatElapsed >= configuration.heartbeatTimeoutTicks {
            heartbeatElapsed = 0
            // Carrying the newest pending read's context lets any heartbeat round confirm every pending read,
            // even when the round sent for that read was lost.
            broadcastHeartbeat(context: pendingReads.last?.context ?? [])
        }
    }

    /// Whether a quorum of voters (the leader included) answered since the last check; resets the marks.
    private func hasActiveQuorum() -> Bool {
        var active = 0
        for voter in currentConfiguration.voters {
            if voter == id {
                active += 1
            } else if progress[voter]?.isRecentlyActive == true {
                active += 1
            }
        }
        activeInLastQuorumPeriod = Set(progress.filter { $0.value.isRecentlyActive }.keys)
        for member in progress.keys { progress[member]?.isRecentlyActive = false }
        return active >= currentConfiguration.quorum
    }

    /// On a leader, the other members (voters and learners) it heard from during the current or the last
    /// completed check-quorum period (at most two election timeouts); `nil` on any other role, which does not
    /// hear from every member.
    public var recentlyActivePeers: Set<NodeID>? {
        guard role == .leader else { return nil }
        var active = activeInLastQuorumPeriod
        for (member, state) in progress where state.isRecentlyActive { active.insert(member) }
        active.remove(id)
        return active
    }

    /// Whether this member is in touch with a leader: as leader, a quorum of voters (itself included)
    /// answered in the current or the last completed check-quorum period; otherwise, the leader was heard
    /// from within the election timeout.
    public var hasLeaderContact: Bool {
        guard let active = recentlyActivePeers else {
            return leaderID != 0 && electionElapsed < configuration.electionTimeoutTicks
        }
        return active.intersection(currentConfiguration.voters).count + 1 >= currentConfiguration.quorum
    }

    /// On a leader, the other voter whose log matches the leader's furthest (the best leadership-transfer
    /// target; ties go to the lowest id, so the choice is deterministic); `nil` on other roles or alone.
    public var mostCaughtUpVoter: NodeID? {
        guard role == .leader else { return nil }
        let others = currentConfiguration.voters.subtracting([id]).sorted()
        return others.max { (progress[$0]?.match ?? 0, $1) < (progress[$1]?.match ?? 0, $0) }
    }

    /// On a leader, the highest log index each other member is known to hold (WAIT); empty on other roles.
    public var replicaMatchIndexes: [NodeID: UInt64] {
        guard role == .leader else { return [:] }
        return progress.filter { $0.key != id }.mapValues(\.match)
    }

    /// The other members of the current configuration (voters and learners).
    public var peers: Set<NodeID> {
        currentConfiguration.members.subtracting([id])
    }

    /// Whether a quorum of voters (the leader included) answered since the last check-quorum round, without
    /// resetting the marks: the leader lease is current.
    var hasRecentQuorum: Bool {
        let active = currentConfiguration.voters.filter { $0 == id || progress[$0]?.isRecentlyActive == true }
        return active.count >= currentConfiguration.quorum
    }

    /// Whether this member may campaign: it is a voter in its latest configuration.
    var isPromotable: Bool { currentConfiguration.voters.contains(id) }

    /// Whether a leader was heard from within the election timeout (the lease that check-quorum grants).
    var isInLeaderLease: Bool {
        configuration.checkQuorum && leaderID != 0 && electionElapsed < configuration.electionTimeoutTicks
    }

    func send(_ message: Message) {
        precondition(message.to != id, "A member never sends a message to itself.")
        outbox.append(message)
    }

    func resetElectionTimer() {
        electionElapsed = 0
        heartbeatElapsed = 0
        let span = UInt64(configuration.electionTimeoutTicks)
        randomizedElectionTimeout = configuration.electionTimeoutTicks + Int(random.next() % span)
    }

    func becomeFollower(term newTerm: UInt64, leader: NodeID) {
        if newTerm != term {
            term = newTerm
            vote = 0
        }
        role = .follower
        leaderID = leader
        resetElectionTimer()
        resetLeaderState()
    }

    func resetLeaderState() {
        votes = [:]
        progress = [:]
        transferTarget = nil
        leaderTermStartIndex = 0
        pendingReads = []
    }

    func becomeLeader() {
        precondition(role == .candidate, "Only a candidate that won an election may become leader.")
        role = .leader
        leaderID = id
        resetElectionTimer()
        votes = [:]
        activeInLastQuorumPeriod = []
        let next = log.lastIndex + 1
        for member in currentConfiguration.members where member != id {
            var peer = ReplicationProgress(next: next)
            peer.isRecentlyActive = true
            progress[member] = peer
        }
        leaderTermStartIndex = next
        appendAsLeader([Entry(term: term, index: next)])
        broadcastAppend()
    }
}
