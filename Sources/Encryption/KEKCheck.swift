/// A key check value for a KEK: lets members compare KEKs without revealing them.
///
/// The value is the first 8 bytes, in hex, of SHA-256 over the KEK's wrap of an all-zero DEK. AES Key Wrap
/// (RFC 3394) is deterministic, so equal KEKs give equal values; the hash of one known wrap says nothing
/// usable about the KEK. The leader polls it before every cut-over and key command, so a member configured
/// with another KEK is refused up front instead of halting at the next key entry. A provider whose wrapping
/// is not deterministic (some KMS) would need a check value of its own.
public enum KEKCheck {
    /// The check value of `provider`'s KEK; `nil` when it cannot wrap.
    public static func value(of provider: any KEKProvider) -> String? {
        let zero: DataEncryptionKey
        do { zero = try DataEncryptionKey(bytes: [UInt8](repeating: 0, count: DataEncryptionKey.byteCount)) } catch {
            preconditionFailure("32 zero bytes make a DEK")
        }
        guard let wrapped = try? provider.wrap(zero) else { return nil }
        let digest = PayloadDigest.sha256(wrapped)
        return PayloadDigest.hex(digest.prefix(8))
    }

    /// Whether a member with check value `other` can unwrap what a node with check value `local` wraps: with
    /// several KEKs a check value lists kek ids separated by commas (``KEKRing/checkValue``), and one shared KEK is
    /// enough; a single KEK's value must be equal.
    public static func compatible(_ other: String, with local: String) -> Bool {
        guard !other.isEmpty, !local.isEmpty else { return false }
        let ids = Set(other.split(separator: ","))
        return local.split(separator: ",").contains { ids.contains($0) }
    }
}
