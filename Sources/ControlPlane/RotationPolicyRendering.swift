import Encryption
import Foundation

/// `elastickv-admin encryption policy show|set`: the rotation policy's durations as operators write them, and
/// the policy with the use of each active DEK, as a text block or one JSON document.
///
/// JSON keys: `rotation_policy` {`rotate_after_seconds`, `rotate_after_seals`, `rewrite_after_rotate`, `set`}, `member_count`, and
/// `active_keys`, one per sealing purpose with an active DEK: {`purpose`, `key_id`, `created`, `seal_count`
/// (this replica's), `cluster_seal_count` (what the policy compares), `age_seconds`}.
public enum RotationPolicyRendering {
    /// Parses `--rotate-after`: `off` or `0`, or a positive number followed by `s`, `m`, `h` or `d` (a bare
    /// number is seconds).
    ///
    /// - Returns: seconds (0 for off), or `nil` when the text is none of those or the result is above
    ///   ``RotationPolicy/maximumRotateAfterSeconds``.
    public static func seconds(ofDuration text: String) -> UInt64? {
        let trimmed = text.lowercased()
        if trimmed == "off" { return 0 }
        let units: [Character: UInt64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(trimmed)
        var unit: UInt64 = 1
        if let last = trimmed.last, let multiplier = units[last] {
            digits = trimmed.dropLast()
            unit = multiplier
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, product <= RotationPolicy.maximumRotateAfterSeconds else { return nil }
        return product
    }

    /// A number of seconds the way ``seconds(ofDuration:)`` reads it, in the largest unit that divides it.
    public static func duration(seconds: UInt64) -> String {
        guard seconds > 0 else { return "off" }
        for (unit, size) in [("d", UInt64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// The text block of `policy show`.
    public static func text(_ status: EncryptionStatus, nowUnixSeconds: UInt64) -> String {
        let policy = status.rotationPolicy
        let age = policy.rotateAfterSeconds == 0 ? "never by age" : "\(duration(seconds: policy.rotateAfterSeconds)) after its creation"
        let seals = policy.rotateAfterSeals == 0 ? "never by seal count" : "after \(policy.rotateAfterSeals) seals cluster-wide"
        var lines = [
            "rotation policy (\(status.rotationPolicyIsSet ? "set" : "default, never set")): rotate a DEK \(age), "
                + "\(seals); a registered local epoch of \(LocalEpochWarning.threshold) or more always rotates"
                + (policy.rewriteAfterRotate ? "; a rewrite follows every automatic storage rotation" : ""),
        ]
        for key in activeKeys(status, nowUnixSeconds: nowUnixSeconds) {
            lines.append("active \(key.purpose) DEK \(key.keyID): created \(key.created) (\(duration(seconds: key.ageSeconds)) "
                + "ago), \(key.clusterSealCount) seals cluster-wide (\(key.sealCount) on this replica, "
                + "\(status.memberCount) members)")
        }
        if lines.count == 1 { lines.append("no active DEK yet: the policy applies once encryption is bootstrapped") }
        return lines.joined(separator: "\n")
    }

    /// The JSON document of `policy show`.
    public static func json(_ status: EncryptionStatus, nowUnixSeconds: UInt64) -> String {
        let document = Document(
            rotationPolicy: .init(rotateAfterSeconds: status.rotationPolicy.rotateAfterSeconds,
                                  rotateAfterSeals: status.rotationPolicy.rotateAfterSeals,
                                  rewriteAfterRotate: status.rotationPolicy.rewriteAfterRotate,
                                  set: status.rotationPolicyIsSet),
            memberCount: status.memberCount, activeKeys: activeKeys(status, nowUnixSeconds: nowUnixSeconds))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(document) else { preconditionFailure("integers and strings encode") }
        return String(decoding: data, as: UTF8.self)
    }

    static func activeKeys(_ status: EncryptionStatus, nowUnixSeconds: UInt64) -> [Document.ActiveKey] {
        [(KeyPurpose.storage, status.activeStorageKeyID), (.raft, status.activeRaftKeyID)].compactMap { purpose, id in
            guard let id, let key = status.keys.first(where: { $0.keyID == id }) else { return nil }
            let created = Sidecar.unixSeconds(ofCreated: key.created) ?? nowUnixSeconds
            return Document.ActiveKey(
                purpose: purpose.rawValue, keyID: id, created: key.created, sealCount: key.sealCount,
                clusterSealCount: key.clusterSealCount(memberCount: status.memberCount),
                ageSeconds: nowUnixSeconds > created ? nowUnixSeconds - created : 0)
        }
    }

    struct Document: Encodable {
        struct Policy: Encodable {
            var rotateAfterSeconds: UInt64
            var rotateAfterSeals: UInt64
            var rewriteAfterRotate: Bool
            var set: Bool

            enum CodingKeys: String, CodingKey {
                case rotateAfterSeconds = "rotate_after_seconds", rotateAfterSeals = "rotate_after_seals", set
                case rewriteAfterRotate = "rewrite_after_rotate"
            }
        }

        struct ActiveKey: Encodable {
            var purpose: String
            var keyID: UInt32
            var created: String
            var sealCount: UInt64
            var clusterSealCount: UInt64
            var ageSeconds: UInt64

            enum CodingKeys: String, CodingKey {
                case purpose, keyID = "key_id", created, sealCount = "seal_count"
                case clusterSealCount = "cluster_seal_count", ageSeconds = "age_seconds"
            }
        }

        var rotationPolicy: Policy
        var memberCount: Int
        var activeKeys: [ActiveKey]

        enum CodingKeys: String, CodingKey {
            case rotationPolicy = "rotation_policy", memberCount = "member_count", activeKeys = "active_keys"
        }
    }
}
