import Encryption
import Synchronization

/// Counts envelopes that failed to open, by reason, for `elastickv_encryption_decrypt_failures_total`.
/// Thread-safe.
public final class DecryptFailures: Sendable {
    /// Why an envelope did not open.
    public enum Reason: String, Sendable, CaseIterable {
        /// Authentication failed: wrong key bytes, or the ciphertext, tag, header or bound context changed.
        case integrity
        /// The envelope names a key this node does not hold.
        case unknownKey = "unknown_key"
        /// The bytes are not a well-formed envelope.
        case malformed
    }

    private let counts = Mutex<[Reason: UInt64]>([:])

    public init() {}

    /// Counts one failure of `error`.
    public func record(_ error: EnvelopeError) {
        let reason: Reason
        switch error {
        case .integrityFailure: reason = .integrity
        case .unknownKeyID, .purposeMismatch: reason = .unknownKey
        default: reason = .malformed
        }
        counts.withLock { $0[reason, default: 0] += 1 }
    }

    /// The failures counted so far, by reason.
    public var snapshot: [Reason: UInt64] { counts.withLock { $0 } }
}
