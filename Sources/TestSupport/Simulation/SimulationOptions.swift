/// The knobs of one simulated run; every fault rate and size is a named field.
public struct SimulationOptions: Sendable, Hashable {
    /// The profile's name, as given to `RAFT_SIM_PROFILE` to replay a seed under it.
    public var name = "default"
    /// Members that exist (ids 1 through `memberCount`); the first `initialVoters` form the cluster, the rest
    /// start empty and may be added by membership changes.
    public var memberCount = 5
    public var initialVoters = 3
    /// Steps with faults (each step: one tick per running member, deliveries, ready processing).
    public var safetySteps = 600
    /// Steps allowed, after healing everything, for the cluster to elect a leader and commit a new entry on
    /// every member.
    public var livenessSteps = 300
    /// Message fates.
    public var dropProbability = 0.05
    public var duplicateProbability = 0.02
    /// Each message is delayed by 1 through `maxDelaySteps` steps, which also reorders messages.
    public var maxDelaySteps: UInt64 = 3
    /// Per step: chance that a running member crashes (losing unsynced state), and that a crashed one restarts.
    public var crashProbability = 0.01
    public var restartProbability = 0.05
    /// Chance that a member crashes between writing a ready batch and syncing it.
    public var crashDuringPersistProbability = 0.002
    /// Per step: chance that the network is re-partitioned at random, and that partitions heal.
    public var partitionProbability = 0.01
    public var healProbability = 0.03
    /// Per step: chance of a membership change and of a leadership transfer, proposed at the leader.
    public var membershipChangeProbability = 0.01
    public var transferProbability = 0.005
    /// Per step: chance that a client issues an operation, and the cap on operations per run.
    public var clientOperationProbability = 0.4
    public var maxClientOperations = 200
    /// Keys of the register model (below 255, which the liveness marker uses).
    public var keyCount: UInt8 = 3
    /// A member snapshots and compacts its log when more than this many applied entries are held.
    public var compactionThresholdEntries: UInt64 = 16
    /// Entries kept behind the snapshot when compacting, so slightly lagging followers avoid a snapshot.
    public var entriesKeptAfterCompaction: UInt64 = 4
    /// The core's limits, small so that flow control and chunking are exercised.
    public var electionTimeoutTicks = 10
    public var heartbeatTimeoutTicks = 2
    public var maxInflightMessages = 4
    public var maxEntriesPerAppend = 3
    public var maxSnapshotChunkBytes = 16
    /// Whether members run pre-vote and check-quorum; safety must hold either way.
    public var preVote = true
    public var checkQuorum = true

    public init() {}

    /// The profiles the test suite runs, by name.
    public static var profiles: [String: SimulationOptions] {
        ["default": SimulationOptions(), "harsh": .harsh, "plain": .plain, "turbulent": .turbulent]
    }

    /// Heavier faults: a lossy, slow network and frequent crashes.
    public static var harsh: SimulationOptions {
        var options = SimulationOptions()
        options.name = "harsh"
        options.dropProbability = 0.15
        options.duplicateProbability = 0.1
        options.maxDelaySteps = 4
        options.crashProbability = 0.03
        options.restartProbability = 0.08
        options.crashDuringPersistProbability = 0.01
        options.partitionProbability = 0.03
        options.membershipChangeProbability = 0.02
        options.livenessSteps = 500
        return options
    }

    /// Five voters with frequent leader crashes and partitions, the conditions of the paper's Figure 8 where
    /// entries of old terms end up on a majority under a later leader.
    public static var turbulent: SimulationOptions {
        var options = SimulationOptions()
        options.name = "turbulent"
        options.initialVoters = 5
        options.dropProbability = 0.1
        options.crashProbability = 0.05
        options.restartProbability = 0.1
        options.partitionProbability = 0.05
        options.healProbability = 0.05
        options.membershipChangeProbability = 0.005
        options.livenessSteps = 500
        return options
    }

    /// Plain Raft: no pre-vote, no check-quorum, so terms rise freely and disruptions happen.
    public static var plain: SimulationOptions {
        var options = SimulationOptions()
        options.name = "plain"
        options.preVote = false
        options.checkQuorum = false
        return options
    }
}
