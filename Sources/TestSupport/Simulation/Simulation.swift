import Raft

/// A deterministic simulation of a Raft cluster: one seed drives the network, the faults, the clients and
/// every member's random source, so a failing seed replays exactly.
///
/// A run has a safety phase, with message loss, duplication, delay, partitions, crashes (losing unsynced
/// state), restarts, membership changes and leadership transfers, then a liveness phase where everything is
/// healed and the cluster must elect a leader and commit a new entry on every member. The safety checkers
/// run after every step. Client puts and gets are recorded in ``history`` for a linearizability checker.
public final class Simulation {
    /// The seed every random choice of the run derives from.
    public let seed: UInt64
    /// Fault rates and sizes of the run.
    public let options: SimulationOptions
    var random: SplitMix64
    let network: SimulatedNetwork
    var nodes: [SimulatedNode] = []
    let checker = SafetyChecker()
    /// Client operations, in invocation order.
    public internal(set) var history: [OperationRecord] = []
    var nextOperationID: UInt64 = 1
    var trace: [String] = []
    /// Whether faults are still being injected (false in the liveness phase).
    var isFaultPhase = true
    var lastRoleSummary: [NodeID: String] = [:]
    let isTracing: Bool
    /// Snapshots members received from a leader and installed.
    public internal(set) var snapshotsInstalled = 0
    /// Steps run so far.
    public internal(set) var step: UInt64 = 0
    /// Operation id of the liveness phase's marker entry.
    static let markerOperationID = UInt64.max
    /// The key the marker writes, outside the clients' keys so the recorded history stays complete.
    static let markerKey = UInt8.max
    /// Ready batches processed per member per step, so one step is bounded.
    static let maxReadyRoundsPerStep = 4
    /// Trace lines kept for a failure report.
    static let maxTraceLines = 400

    /// Sets up the members; nothing runs until ``run()``.
    public init(seed: UInt64, options: SimulationOptions = SimulationOptions(), isTracing: Bool = false) {
        precondition(options.initialVoters >= 1 && options.initialVoters <= options.memberCount, "Bad voter count.")
        self.seed = seed
        self.options = options
        self.isTracing = isTracing
        random = SplitMix64(seed: seed)
        network = SimulatedNetwork(
            seed: seed ^ 0x5eed_0f_4e7, dropProbability: options.dropProbability,
            duplicateProbability: options.duplicateProbability, maxDelaySteps: options.maxDelaySteps)
        let voters = Set((1...UInt64(options.initialVoters)).map { NodeID($0) })
        for member in 1...UInt64(options.memberCount) {
            let configuration = RaftConfiguration(
                id: member, electionTimeoutTicks: options.electionTimeoutTicks,
                heartbeatTimeoutTicks: options.heartbeatTimeoutTicks,
                preVote: options.preVote, checkQuorum: options.checkQuorum,
                maxInflightMessages: options.maxInflightMessages, maxEntriesPerAppend: options.maxEntriesPerAppend,
                maxSnapshotChunkBytes: options.maxSnapshotChunkBytes)
            let bootstrap = voters.contains(member) ? ConfigurationState(voters: voters) : ConfigurationState()
            let node = SimulatedNode(id: member, raftConfiguration: configuration, bootstrap: bootstrap)
            node.start(randomSeed: random.next())
            nodes.append(node)
        }
    }

    /// Runs the safety phase then the liveness phase.
    ///
    /// - Throws: ``SimulationFailure`` naming the property that broke, the seed and the replay command.
    public func run() throws(SimulationFailure) {
        do {
            for _ in 0..<options.safetySteps {
                injectFaults()
                issueClientOperation()
                try runStep()
            }
            try runLivenessPhase()
        } catch {
            throw SimulationFailure(seed: seed, profile: options.name, step: step, reason: error.reason, trace: trace)
        }
    }

    /// Heals everything and waits for a leader to commit a marker entry on every member of its configuration.
    private func runLivenessPhase() throws(SafetyViolation) {
        note("liveness phase: healing network, restarting everyone")
        isFaultPhase = false
        network.heal()
        network.dropProbability = 0
        network.duplicateProbability = 0
        for node in nodes where !node.isRunning { node.start(randomSeed: random.next()) }
        var marker: (index: UInt64, term: UInt64)?
        for _ in 0..<options.livenessSteps {
            try runStep()
            guard let (leaderID, leader) = readyLeader() else { continue }
            if marker.map({ leader.logTerm(at: $0.index) != $0.term }) ?? true {
                // First proposal, or the previous one was lost with its leader: propose (again).
                let command = RegisterCommand(operationID: Self.markerOperationID, key: Self.markerKey, value: 0)
                if let index = try? leader.propose(command.encoded) { marker = (index, leader.term) }
                continue
            }
            guard let marker, leader.commitIndex >= marker.index else { continue }
            let members = leader.configurationState.members
            // A member may receive the marker inside a snapshot, so compare applied indices, not entries.
            if nodes.filter({ members.contains($0.id) }).allSatisfy({ $0.isRunning && $0.appliedIndex >= marker.index })
            {
                note("converged under leader \(leaderID)")
                return
            }
        }
        let states = nodes.map { node in
            guard let core = node.core else { return "\(node.id): down" }
            let membership = core.configurationState
            return "\(node.id): \(core.role) term \(core.term) commit \(core.commitIndex) applied \(core.appliedIndex) "
                + "last \(core.lastIndex) config \(membership.voters.sorted())/\(membership.learners.sorted())"
        }
        throw SafetyViolation(
            reason: "liveness: no convergence within \(options.livenessSteps) healed steps; "
                + states.joined(separator: "; "))
    }

    /// The leader of the highest term that is ready to serve (a stale leader may still think it leads).
    private func readyLeader() -> (NodeID, RaftNode)? {
        let ready = nodes.compactMap { node in node.core.flatMap { $0.isReadyToServe ? (node.id, $0) : nil } }
        return ready.max { $0.1.term < $1.1.term }
    }

    /// One step: a tick on every running member, message deliveries, ready processing, then the checkers.
    func runStep() throws(SafetyViolation) {
        step += 1
        network.now = step
        for node in nodes { node.core?.tick() }
        for message in network.takeDeliverable() {
            guard let node = nodes.first(where: { $0.id == message.to }), let core = node.core else { continue }
            core.step(message)
        }
        for node in nodes { try processReady(node) }
        if isTracing { traceRoles() }
        let leaders = currentLeaders()
        for (member, core) in leaders { try checker.checkLeader(member, core: core, leaders: leaders) }
    }

    private func traceRoles() {
        for node in nodes {
            guard let core = node.core else { continue }
            let summary = "\(core.role) term \(core.term) last \(core.lastIndex) commit \(core.commitIndex)"
            if lastRoleSummary[node.id] != summary {
                lastRoleSummary[node.id] = summary
                note("member \(node.id): \(summary)")
            }
        }
    }

    func currentLeaders() -> [(NodeID, RaftNode)] {
        nodes.compactMap { node in node.core.flatMap { $0.role == .leader ? (node.id, $0) : nil } }
    }

    func note(_ line: @autoclosure () -> String) {
        guard isTracing else { return }
        trace.append("[\(step)] " + line())
        if trace.count > Self.maxTraceLines { trace.removeFirst(trace.count - Self.maxTraceLines) }
    }

    func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(random.next() % 1_000_000) < probability * 1_000_000
    }

    func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    /// Messages the network carried and dropped, and elections seen, for reports.
    public var statistics: (messages: Int, dropped: Int, elections: Int, committed: Int) {
        (network.sentCount, network.droppedCount, checker.electionCount, checker.committedCount)
    }
}
