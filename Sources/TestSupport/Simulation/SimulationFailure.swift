/// A safety or liveness violation found by a simulated run, with what is needed to replay it.
public struct SimulationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The seed that replays the run.
    public var seed: UInt64
    /// The ``SimulationOptions/name`` of the profile the run used.
    public var profile: String
    /// The step at which the violation was seen.
    public var step: UInt64
    /// Which property broke and how.
    public var reason: String
    /// The last events of the run, when tracing was on.
    public var trace: [String]

    public init(seed: UInt64, profile: String, step: UInt64, reason: String, trace: [String] = []) {
        self.seed = seed
        self.profile = profile
        self.step = step
        self.reason = reason
        self.trace = trace
    }

    /// The command that replays this run exactly.
    public var replayCommand: String {
        "RAFT_SIM_SEED=\(seed) RAFT_SIM_PROFILE=\(profile) RAFT_SIM_TRACE=1 "
            + "swift test --filter RaftTests.SimulationTests"
    }

    public var description: String {
        var text = "simulation seed \(seed) failed at step \(step): \(reason)\nreplay: \(replayCommand)"
        if !trace.isEmpty { text += "\nlast events:\n" + trace.joined(separator: "\n") }
        return text
    }
}
