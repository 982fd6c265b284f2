/// Bounds on the work one linearizability check may do.
///
/// Checking linearizability is NP-complete, so every check is bounded: a history larger than
/// ``maxOperations`` is refused with an error, and a search that runs out of steps, memory or time ends
/// with ``LinearizabilityResult/unknown(_:)`` rather than with a verdict.
public struct LinearizabilityLimits: Sendable, Hashable {
    /// The largest history accepted, in operations.
    public var maxOperations: Int
    /// The most search steps (one step examines one call or return event) over the whole history.
    public var maxSearchSteps: Int
    /// An estimate of the most memory the search may spend remembering explored configurations of one
    /// partition, in bytes.
    public var maxMemoBytes: Int
    /// The longest a check may run on the wall clock, or `nil` for no time limit.
    ///
    /// A time limit makes the verdict depend on machine load; deterministic tests should leave it `nil`
    /// and rely on ``maxSearchSteps``.
    public var maxDuration: Duration?

    /// Creates limits.
    ///
    /// - Precondition: every count is positive.
    public init(
        maxOperations: Int = 100_000,
        maxSearchSteps: Int = 20_000_000,
        maxMemoBytes: Int = 512 << 20,
        maxDuration: Duration? = nil
    ) {
        precondition(maxOperations > 0, "maxOperations must be positive.")
        precondition(maxSearchSteps > 0, "maxSearchSteps must be positive.")
        precondition(maxMemoBytes > 0, "maxMemoBytes must be positive.")
        self.maxOperations = maxOperations
        self.maxSearchSteps = maxSearchSteps
        self.maxMemoBytes = maxMemoBytes
        self.maxDuration = maxDuration
    }

    /// Limits suited to histories recorded by a simulation run.
    public static let `default` = LinearizabilityLimits()
}
