/// When the leader rotates a sealing purpose's DEK on its own (DESIGN §4, automatic rotation).
///
/// Replicated: set by a 0x05/0x07 entry and kept in the sidecar, so every replica (and a snapshot) holds the
/// same policy and whichever node leads applies it. A DEK is due when it is older than ``rotateAfterSeconds``,
/// when the cluster sealed more than ``rotateAfterSeals`` values under it, or when any node's registered local
/// epoch for it reached ``LocalEpochWarning/threshold`` (0xFF00, where start-up warnings begin; 0xFFFF refuses
/// to start). The last bound always applies, with or without a policy.
public struct RotationPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Rotate a DEK this many seconds after its creation; 0 turns the age bound off.
    public var rotateAfterSeconds: UInt64
    /// Rotate a DEK once the cluster sealed this many values under it; 0 turns the count bound off.
    public var rotateAfterSeals: UInt64
    /// Start a rewrite (``EncryptionEntry/rewriteChunk(_:)``) after every automatic storage rotation, so old
    /// versions do not stay under the old DEK.
    public var rewriteAfterRotate: Bool

    /// The policy of a cluster that never set one: no age bound, and a seal bound of 2^30, a quarter of the 2^32
    /// invocations NIST SP 800-38D allows one GCM key with random nonces (ours are deterministic and unique, so
    /// this is a margin, not a necessity).
    public static let `default` = RotationPolicy(rotateAfterSeconds: 0, rotateAfterSeals: 1 << 30)

    /// The largest age bound: 100 years.
    public static let maximumRotateAfterSeconds: UInt64 = 100 * 366 * 86_400
    /// The largest seal bound: 2^32, the GCM guidance for one key.
    public static let maximumRotateAfterSeals: UInt64 = 1 << 32

    public init(rotateAfterSeconds: UInt64, rotateAfterSeals: UInt64, rewriteAfterRotate: Bool = false) {
        self.rotateAfterSeconds = rotateAfterSeconds
        self.rotateAfterSeals = rotateAfterSeals
        self.rewriteAfterRotate = rewriteAfterRotate
    }

    /// Whether both bounds are within their limits.
    public var isValid: Bool {
        rotateAfterSeconds <= Self.maximumRotateAfterSeconds && rotateAfterSeals <= Self.maximumRotateAfterSeals
    }

    public var description: String {
        let age = rotateAfterSeconds == 0 ? "off" : "\(rotateAfterSeconds) s"
        let seals = rotateAfterSeals == 0 ? "off" : "\(rotateAfterSeals)"
        return "rotate after: age \(age), seals \(seals)" + (rewriteAfterRotate ? "; rewrite after each rotation" : "")
    }

    /// Why a DEK is due for rotation.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The key is `ageSeconds` old, at least the policy's bound.
        case age(ageSeconds: UInt64)
        /// The cluster sealed `seals` values under the key, at least the policy's bound.
        case seals(UInt64)
        /// A node registered local epoch `epoch` (at least 0xFF00) for the key.
        case localEpoch(UInt16)

        /// The metric label of the reason.
        public var label: String {
            switch self {
            case .age: return "age"
            case .seals: return "seals"
            case .localEpoch: return "local_epoch"
            }
        }

        public var description: String {
            switch self {
            case .age(let seconds): return "the key is \(seconds) s old"
            case .seals(let count): return "the cluster sealed \(count) values under it"
            case .localEpoch(let epoch): return "a node's local epoch for it reached \(epoch)"
            }
        }
    }

    /// What the leader knows about one active DEK when it checks the policy.
    public struct KeyUse: Sendable, Hashable {
        /// Seconds since the key's creation (0 when the clock is behind the creation time).
        public var ageSeconds: UInt64
        /// Values sealed under the key, cluster-wide.
        public var seals: UInt64
        /// The highest local epoch any node registered for the key.
        public var highestLocalEpoch: UInt16

        public init(ageSeconds: UInt64, seals: UInt64, highestLocalEpoch: UInt16) {
            self.ageSeconds = ageSeconds
            self.seals = seals
            self.highestLocalEpoch = highestLocalEpoch
        }
    }

    /// Why the key with this use is due for rotation, or `nil` when it is not; the local epoch comes first
    /// (it is the bound a restart could make fatal), then seals, then age.
    public func reasonToRotate(_ use: KeyUse) -> Reason? {
        if use.highestLocalEpoch >= LocalEpochWarning.threshold { return .localEpoch(use.highestLocalEpoch) }
        if rotateAfterSeals != 0, use.seals >= rotateAfterSeals { return .seals(use.seals) }
        if rotateAfterSeconds != 0, use.ageSeconds >= rotateAfterSeconds { return .age(ageSeconds: use.ageSeconds) }
        return nil
    }
}
