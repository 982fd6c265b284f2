/// What a KEK provider that calls a service (KMS, HSM, plugin, command) throws from one wrap or unwrap.
///
/// `provider` is the provider's kek id or URI without its query (``KEKURI/withoutQuery``). `reason` says what
/// went wrong in words an operator can act on; it never contains credentials, PINs, session tokens, signed
/// headers, key bytes or wrapped bytes. The distinction between the cases drives retries and the circuit
/// breaker: only ``unavailable(provider:reason:)`` is retried.
public enum KEKProviderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The provider could not be reached or did not answer in time, or answered with a transient failure
    /// (connection refused, timeout, HTTP 5xx or throttling, token removed, plugin not serving): retrying later
    /// may succeed.
    case unavailable(provider: String, reason: String)
    /// The provider answered and refused (access denied, unknown or disabled key, invalid request): retrying
    /// the same call will not help.
    case rejected(provider: String, reason: String)
    /// The provider answered that the wrapped bytes are not its own or were altered (`ErrKEKMismatch`).
    case mismatch(provider: String)
    /// The provider's configuration or local set-up is wrong (module not found, PIN file unreadable, no such
    /// object in the token, command not executable).
    case misconfigured(provider: String, reason: String)

    /// Whether a retry may succeed.
    public var isTransient: Bool {
        if case .unavailable = self { return true }
        return false
    }

    public var provider: String {
        switch self {
        case .unavailable(let provider, _), .rejected(let provider, _), .mismatch(let provider),
             .misconfigured(let provider, _):
            return provider
        }
    }

    public var description: String {
        switch self {
        case .unavailable(let provider, let reason):
            return "ErrKEKUnavailable: KEK provider \(provider) is unavailable: \(reason)"
        case .rejected(let provider, let reason):
            return "KEK provider \(provider) refused the request: \(reason)"
        case .mismatch(let provider):
            return "ErrKEKMismatch: a wrapped DEK does not unwrap with KEK provider \(provider); every member must "
                + "be configured with the cluster's KEKs"
        case .misconfigured(let provider, let reason):
            return "KEK provider \(provider) is misconfigured: \(reason)"
        }
    }
}
