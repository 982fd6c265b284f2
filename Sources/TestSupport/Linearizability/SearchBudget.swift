/// The steps and time left to one linearizability check, shared by all its partitions.
struct SearchBudget {
    /// How often, in steps, the wall clock is read when there is a time limit.
    static var stepsBetweenClockReadings: Int { 1024 }

    let limits: LinearizabilityLimits
    private(set) var stepsTaken = 0
    private let start = ContinuousClock.now

    init(limits: LinearizabilityLimits) {
        self.limits = limits
    }

    /// Takes one search step, or returns the bound that forbids it.
    ///
    /// The clock is read on the first step and every ``stepsBetweenClockReadings`` steps after, so a zero
    /// time limit stops a search before it explores anything.
    mutating func takeStep() -> SearchBudgetExceeded? {
        if stepsTaken >= limits.maxSearchSteps {
            return .searchSteps(limit: limits.maxSearchSteps)
        }
        if let maxDuration = limits.maxDuration, stepsTaken % Self.stepsBetweenClockReadings == 0,
            start.duration(to: .now) >= maxDuration
        {
            return .duration(limit: maxDuration)
        }
        stepsTaken += 1
        return nil
    }

    /// Returns the memo bound when `bytes` of explored configurations exceed it.
    func checkMemo(bytes: Int) -> SearchBudgetExceeded? {
        bytes > limits.maxMemoBytes ? .memoBytes(limit: limits.maxMemoBytes) : nil
    }
}
