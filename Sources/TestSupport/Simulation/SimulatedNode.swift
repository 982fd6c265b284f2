import Raft

/// One simulated member: its core, its storage split into what the process sees and what survives a crash,
/// its register state machine, and the client requests it is serving.
final class SimulatedNode {
    let id: NodeID
    let raftConfiguration: RaftConfiguration
    /// `nil` while crashed.
    var core: RaftNode?
    /// What the running process has written.
    var storage: MemoryRaftStorage
    /// What was synced: a crash restarts from here.
    var durable: MemoryRaftStorage
    var registers: [UInt8: UInt64] = [:]
    var appliedIndex: UInt64 = 0
    /// Puts this member proposed, by operation id, with their position in the history.
    var pendingPuts: [UInt64: Int] = [:]
    /// Reads awaiting a read index, by context, with history position and key.
    var pendingReads: [[UInt8]: (position: Int, key: UInt8)] = [:]
    /// Reads with a read index, waiting for the state machine to reach it.
    var readsAwaitingApply: [(index: UInt64, position: Int, key: UInt8)] = []

    init(id: NodeID, raftConfiguration: RaftConfiguration, bootstrap: ConfigurationState) {
        self.id = id
        self.raftConfiguration = raftConfiguration
        storage = MemoryRaftStorage(configuration: bootstrap)
        durable = storage.copy()
    }

    var isRunning: Bool { core != nil }

    /// Loses everything not synced: the core, the state machine and the requests in progress.
    func crash() {
        core = nil
        storage = durable.copy()
        registers = [:]
        appliedIndex = 0
        pendingPuts = [:]
        pendingReads = [:]
        readsAwaitingApply = []
    }

    /// Restarts from durable state: the state machine from the snapshot, the core from the log.
    func start(randomSeed: UInt64) {
        precondition(core == nil, "Member \(id) is already running.")
        storage = durable.copy()
        do {
            let snapshot = try storage.snapshot()
            registers = RegisterCommand.decodeState(snapshot.data)
            appliedIndex = snapshot.metadata.index
            core = try RaftNode(
                configuration: raftConfiguration, storage: storage, random: SplitMix64(seed: randomSeed))
        } catch {
            preconditionFailure("In-memory storage cannot fail to load, yet it did: \(error)")
        }
    }

    var stateDigest: UInt64 { SafetyChecker.fnv1a(RegisterCommand.encodeState(registers)) }
}
