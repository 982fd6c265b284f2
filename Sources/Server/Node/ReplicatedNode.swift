import Foundation
import ControlPlane
import DurableIO
import Encryption
import KV
import Logging
import Raft
import Storage

/// One member of the cluster: the Raft core on its durable log, driving the key-value state machine.
///
/// An actor, so the core (a synchronous, non-thread-safe value) is only touched from one place. Every input
/// — a tick, a message, a proposal, a read — is followed by ``process()``, which runs the core's ready
/// batches in the documented order: persist (fsync), send, apply, advance. Proposals and reads wait on
/// continuations that apply resolves.
public actor ReplicatedNode {
    /// Named limits and intervals.
    public struct Options: Sendable {
        /// Wall time of one Raft tick (election timeout is 10 ticks, heartbeat 1 tick).
        public var tickInterval: Duration = .milliseconds(100)
        /// Take a snapshot once this many entries were applied since the last one. Each snapshot exports the
        /// whole store on the node's actor (about a tenth of a follower's CPU at 2k writes/s with 10k keys at
        /// an interval of 10,000), so the default is etcd's 100,000.
        public var snapshotEveryEntries: UInt64 = 100_000
        /// Entries kept in the log behind a snapshot, so slightly lagging followers catch up from the log.
        public var entriesKeptAfterSnapshot: UInt64 = 5_000
        /// The longest a proposal or read waits before answering a timeout.
        public var requestTimeout: Duration = .seconds(10)
        public init() {}
    }

    struct ProposalWaiter {
        let term: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<[CommandResult], BackendError>, Never>
    }

    struct ReadWaiter<Value> {
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<Value, BackendError>, Never>
        /// When the read was handed to the core, and in which term: a quorum that confirms it proves this
        /// member led that term at that moment, which is what the leader lease is measured from.
        var issuedAt: ContinuousClock.Instant = .now
        var term: UInt64 = 0
        /// Whether this member led when it issued the read (its core then confirms it, or drops it on
        /// stepping down).
        var issuedAsLeader = false
    }

    let identity: NodeIdentityInfo
    let options: Options
    let core: RaftNode
    let log: DurableLog
    public nonisolated let store: MVCCStore
    /// `<data-dir>/LOCK`, held until ``close()``; `nil` for nodes opened without a data directory lock.
    var dataDirectoryLock: DataDirectoryLock?
    /// What `INFO` reports, refreshed after every ready batch.
    public nonisolated let info = NodeInfo()
    /// Bumped after every applied batch; blocked Redis commands wait on it.
    public nonisolated let applied = ApplySignal()
    /// The element indexes collections are named with (readers need them to find a member's row).
    public nonisolated let elementIndexes: ElementIndexes
    let machine: KVStateMachine
    /// The node's encryption (keys, sealing, raft envelope); `nil` without `--encryption-enabled`.
    let encryption: KVEncryption?
    /// The KEKs the node wraps and unwraps with (`nil` without encryption), for the health probe.
    nonisolated let kekProvider: (any KEKProvider)?
    /// Set while the leader switches the raft envelope on: user proposals get a retryable error, so that every
    /// entry after the cut-over entry is wrapped.
    var raftCutoverBarrier = false
    /// Set while an encryption mutator runs on this leader; they run one at a time.
    var encryptionOperationRunning = false
    /// Asks other members for their encryption capability.
    var capabilityPoller: (any CapabilityPolling)?
    /// Where the process-start writer registration stands (see ``advanceWriterRegistration()``).
    var registration = RegistrationProgress()
    let logger: Logger
    /// Rate-limits the lines a persistent fault would repeat (snapshot and garbage-collection retries).
    let logThrottle = LogThrottle()
    let metrics: MetricsRegistry?
    /// The Raft gauges, resolved once; `nil` without metrics.
    let raftGauges: RaftGauges?
    /// When the encryption series were last published.
    var encryptionGaugesUpdatedAt: ContinuousClock.Instant?
    /// The founding members from `--initial-cluster`, known before the directory is replicated.
    let initialPeers: [NodeConfiguration.Peer]
    var transport: (any RaftTransport)?
    var forwarder: (any ProposalForwarding)?
    var proposals: [UInt64: ProposalWaiter] = [:]
    var readRequests: [[UInt8]: ReadWaiter<UInt64>] = [:]
    var readsAwaitingApply: [(index: UInt64, waiter: ReadWaiter<Void>)] = []
    var nextReadContext: UInt64 = 0
    /// Until when this leader may answer lease reads without a quorum round, and for which term.
    var leaderLease: (term: UInt64, expiresAt: ContinuousClock.Instant)?
    /// Why the node stopped applying and serving (apply halted, or its Raft log failed); `nil` while healthy.
    var halt: String?
    var lastSnapshotIndex: UInt64
    /// After a rewrite finished: the last log index whose file must go once it applied (``compactAfterRewrite()``).
    var logPurgeAfterRewrite: UInt64?
    /// When the last snapshot was taken (or the node opened, before its first one), for LASTSAVE.
    var lastSnapshotUnixSeconds = Int64(Date().timeIntervalSince1970)
    var publishedLeader: String?
    /// The leader and peer reachability last logged (see ``observeLifecycle()``).
    var observedLeader: NodeID?
    var observedPeers: [NodeID: Bool?] = [:]
    var observedEncryption: EncryptionLogState?
    /// The last read of the member directory; reused for ``directoryCacheLifetime`` so forwarded writes and
    /// the transport's peer refresh do not query the store each time.
    var directoryCache: (readAt: ContinuousClock.Instant, members: [NodeID: MemberDirectory.Member])?
    /// Whether a task to run ``process()`` is already queued (see ``scheduleProcess()``).
    var processScheduled = false
    /// The term in which this member, as leader, last made sure the founding peers are in the directory.
    var directorySeededTerm: UInt64 = 0

    /// Identity of the member in both forms.
    public struct NodeIdentityInfo: Sendable {
        public let name: String
        public let id: NodeID
    }

    init(name: String, id: NodeID, options: Options, core: RaftNode, log: DurableLog, store: MVCCStore,
         machine: KVStateMachine, initialPeers: [NodeConfiguration.Peer], dataDirectoryLock: DataDirectoryLock?,
         metrics: MetricsRegistry?, logger: Logger) {
        self.dataDirectoryLock = dataDirectoryLock
        self.initialPeers = initialPeers
        self.metrics = metrics
        raftGauges = metrics.map(RaftGauges.init)
        self.identity = NodeIdentityInfo(name: name, id: id)
        self.options = options
        self.core = core
        self.log = log
        self.store = store
        self.machine = machine
        elementIndexes = machine.elementIndexes
        self.encryption = machine.encryptionApplier as? KVEncryption
        kekProvider = encryption?.applier.kekProvider
        self.logger = logger
        lastSnapshotIndex = (try? log.snapshot().metadata.index) ?? 0
    }

    /// Closes the store and the log (after shutdown), then releases the data directory.
    public func close() {
        store.close()
        try? log.close()
        dataDirectoryLock = nil
    }

    /// Connects the transport the core's messages go out on (keeping any forwarder).
    public func attachTransport(_ transport: any RaftTransport) {
        self.transport = transport
    }

    /// Sets how follower proposals reach the leader.
    public func attachForwarder(_ forwarder: any ProposalForwarding) {
        self.forwarder = forwarder
    }

    /// One unit of logical time; also expires requests that waited past their deadline.
    public func tick() {
        guard halt == nil else { return }
        core.tick()
        process()
        expireWaiters(now: .now)
    }

    func deadline() -> ContinuousClock.Instant { .now + options.requestTimeout }

    /// Runs ``process()`` from a task queued behind the requests already waiting for the actor, so that
    /// concurrent proposals and reads share one ready batch: one fsync and one round of messages for all of
    /// them (group commit).
    func scheduleProcess() {
        guard !processScheduled else { return }
        processScheduled = true
        Task { await self.runScheduledProcess() }
    }

    func runScheduledProcess() {
        processScheduled = false
        process()
    }

    /// Messages from other members, stepped in order, then one round of ready processing.
    public func receive(_ messages: [Message]) {
        guard halt == nil, !messages.isEmpty else { return }
        for message in messages { core.step(message) }
        process()
    }

    /// Starts an election now (a single-member cluster elects itself at once).
    public func campaign() {
        core.campaign()
        process()
    }

    /// Proposes an FSM payload and waits until it is applied; returns the answers of its commands.
    ///
    /// - Throws: ``BackendError`` when this member is not the leader (``RaftError`` text), when leadership
    ///   changed before the entry committed (retryable), on timeout, or when apply halted.
    public func propose(_ payload: [UInt8]) async throws(BackendError) -> [CommandResult] {
        do throws(BackendError) {
            return try await proposeLocally(payload).results
        } catch {
            guard case .notLeader(let leader) = error, let forwarder else { throw error }
            return try await forwarder.forward(payload, to: leader)
        }
    }

    /// Proposes on this member only (no forwarding) and waits until the entry is applied.
    func proposeLocally(_ payload: [UInt8]) async throws(BackendError)
        -> (index: UInt64, term: UInt64, results: [CommandResult])
    {
        let index = try append(payload)
        let term = core.term
        let result = await withCheckedContinuation { continuation in
            proposals[index] = ProposalWaiter(term: term, deadline: deadline(), continuation: continuation)
            scheduleProcess()
        }
        return (index, term, try result.get())
    }

    /// Appends a proposal to the leader's log, wrapped in a raft envelope after the cut-over.
    ///
    /// - Throws: ``BackendError/tryAgain(_:)`` for user payloads while the cut-over barrier holds, and the
    ///   errors of ``RaftNode/propose(_:)`` mapped for clients.
    func append(_ payload: [UInt8]) throws(BackendError) -> UInt64 {
        if let halt { throw .unavailable(halt) }
        if raftCutoverBarrier && !Self.passesCutoverBarrier(payload) {
            throw .tryAgain("writes are held while the raft envelope is switched on; retry")
        }
        // Only the leader wraps: a follower forwards the cleartext payload (its own epochs may not be registered).
        guard core.role == .leader else {
            if let leader = core.leader { throw .notLeader(leader: leader) }
            throw .noLeader
        }
        var data = payload
        if let encryption {
            do throws(EnvelopeError) { data = try encryption.wrapForProposal(payload) } catch {
                throw .tryAgain("this node cannot seal the proposal yet (\(error)); retry")
            }
        }
        let registration = payload.first == EncryptionEntry.Opcode.writerRegistration
        do throws(RaftError) { return try core.propose(data, requireReadyToServe: !registration) } catch {
            if case .notLeader(let leader?) = error { throw .notLeader(leader: leader) }
            throw Self.backendError(error)
        }
    }

    /// Whether a payload may be appended while the cut-over barrier holds: the cut-over entry itself, and
    /// writer registrations, which stay cleartext on both sides of the cut-over. Anything else could land
    /// after the cut-over unwrapped and halt every replica.
    static func passesCutoverBarrier(_ payload: [UInt8]) -> Bool {
        payload == cutoverPayload || payload.first == EncryptionEntry.Opcode.writerRegistration
    }

    /// The encoded enable-raft-envelope entry.
    static let cutoverPayload: [UInt8] = (try? EncryptionEntry.enableRaftEnvelope.encoded()) ?? []

    /// Waits until a linearizable read may be served: a ReadIndex confirmed by a quorum, then applied.
    ///
    /// - Parameter lease: let a leader holding the check-quorum lease answer without a heartbeat round
    ///   while its monotonic-clock lease holds (``leaseReadIndex()``); opt-in, see `--lease-reads`.
    public func readBarrier(lease: Bool = false) async throws(BackendError) {
        let index = try await confirmReadIndex(lease: lease)
        guard core.appliedIndex < index else { return }
        let applied = await withCheckedContinuation { continuation in
            readsAwaitingApply.append((index, ReadWaiter(deadline: deadline(), continuation: continuation)))
        }
        try applied.get()
    }

    /// Runs the ReadIndex protocol (a follower asks the leader through Raft) and returns the read point.
    ///
    /// With `lease`, a leader whose lease holds on the monotonic clock answers at its commit index at once
    /// (``leaseReadIndex()``); otherwise, and whenever the lease has run out, a quorum round confirms the read
    /// and renews the lease.
    func confirmReadIndex(lease: Bool = false) async throws(BackendError) -> UInt64 {
        if let halt { throw .unavailable(halt) }
        if lease, let index = leaseReadIndex() { return index }
        nextReadContext += 1
        var context: [UInt8] = []
        context.appendBigEndian(nextReadContext)
        let (issuedAt, term, asLeader) = (ContinuousClock.now, core.term, core.role == .leader)
        do throws(RaftError) { try core.readIndex(context: context) } catch {
            throw Self.backendError(error)
        }
        let confirmed = await withCheckedContinuation { continuation in
            readRequests[context] = ReadWaiter(deadline: deadline(), continuation: continuation, issuedAt: issuedAt,
                                               term: term, issuedAsLeader: asLeader)
            scheduleProcess()
        }
        return try confirmed.get()
    }

    /// How long a quorum's confirmation lets a leader answer reads alone, measured on the monotonic clock
    /// from the moment the confirmed read was issued (DESIGN §9).
    ///
    /// A follower that heard from this leader neither votes for a rival nor campaigns for a whole election
    /// timeout (check-quorum and pre-vote), so no other leader can exist before `issuedAt + electionTimeout`.
    /// The lease stops two ticks and a tenth short of that, for ticks that fire late and clocks that drift.
    var leaseDuration: Duration {
        let electionTimeout = options.tickInterval * core.configuration.electionTimeoutTicks
        return max(.zero, electionTimeout * 0.9 - options.tickInterval * 2)
    }

    /// The read index a lease read uses: the commit index, when this member leads, is ready to serve and its
    /// lease for this term has not run out on the monotonic clock; `nil` otherwise.
    func leaseReadIndex() -> UInt64? {
        guard core.role == .leader, core.isReadyToServe, let lease = leaderLease, lease.term == core.term,
              ContinuousClock.now < lease.expiresAt
        else { return nil }
        return core.commitIndex
    }

    /// Renews the lease from a read a quorum confirmed while this member led the read's term.
    func renewLease(confirmedReadIssuedAt issuedAt: ContinuousClock.Instant, term: UInt64) {
        guard core.role == .leader, core.term == term else { return }
        let expiresAt = issuedAt + leaseDuration
        if let lease = leaderLease, lease.term == term, lease.expiresAt >= expiresAt { return }
        leaderLease = (term, expiresAt)
    }

    static func backendError(_ error: RaftError) -> BackendError {
        switch error {
        case .notLeader(nil): return .noLeader
        case .notLeader, .notReadyToServe, .leadershipTransferInProgress, .tooManyUncommittedEntries,
             .tooManyPendingReads:
            return .tryAgain(error.description)
        default: return .unavailable(error.description)
        }
    }
}
