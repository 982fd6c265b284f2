/// How one configured KEK provider is doing, as `encryption status` and the metrics show it.
///
/// Nothing here is secret: the id is a kek id (a fingerprint or a URI without its query), and `lastError` is a
/// provider error's description, which never carries credentials or key bytes.
public struct KEKProviderHealth: Sendable, Hashable {
    /// Whether the provider answered its last call.
    public enum State: String, Sendable, Hashable {
        /// No call was made yet.
        case unknown
        /// The last call worked.
        case up
        /// The last call failed because the provider was unreachable or answered with a transient failure.
        case down
        /// Calls fail fast: too many transient failures in a row; a probe call is let through after a pause.
        case circuitOpen = "circuit-open"
    }

    /// The kek id.
    public let kekID: String
    /// The provider's scheme (`file`, `aws-kms`, …).
    public let scheme: String
    /// Whether this KEK is the primary (target of new wraps, first to unwrap).
    public let primary: Bool
    public let state: State
    /// Transient failures since the last success.
    public let consecutiveFailures: Int
    /// The last failure's description, if the last call failed.
    public let lastError: String?

    public init(kekID: String, scheme: String, primary: Bool, state: State, consecutiveFailures: Int = 0,
                lastError: String? = nil)
    {
        self.kekID = kekID
        self.scheme = scheme
        self.primary = primary
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
    }
}
