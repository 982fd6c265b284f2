/// The bounds every encryption entry codec enforces.
///
/// Entries arrive from the Raft log, so a decoder must never allocate or loop in proportion to a count it has
/// not checked. Each limit is far above what a real cluster needs and far below what could hurt a replica.
public enum EntryLimits {
    /// The current body version of every encryption entry (0x03, 0x04, each 0x05 sub-tag).
    public static let bodyVersion: UInt8 = 0x01

    /// The body version of an entry whose wrapped DEKs carry a wrap per KEK (bootstrap, rotate-dek, rewrap-deks,
    /// create-index-key with several KEKs configured); entries without per-KEK wraps keep ``bodyVersion``.
    public static let multiKEKBodyVersion: UInt8 = 0x02

    /// The most KEKs one DEK may be wrapped by.
    public static let maxKEKWraps = 8

    /// The longest kek id in bytes (a URI without its query).
    public static let maxKEKIDBytes = 512

    /// The most writer registrations one entry may carry (members × DEKs registered at once).
    public static let maxRegistrationsPerEntry = 1024

    /// The largest wrapped DEK accepted. AES Key Wrap of a 32-byte DEK is 40 bytes; KMS ciphertext blobs are a
    /// few hundred bytes.
    public static let maxWrappedDEKBytes = 1024

    /// The most DEKs one rewrap entry may re-wrap.
    public static let maxRewrappedDEKsPerEntry = 256

    /// The longest row key a rewrite chunk may name: a user key of 1 MiB with the row prefix and element part.
    public static let maxRowKeyBytes = (1 << 20) + 4096

    /// The latest creation time an entry may carry: 9999-12-31T23:59:59Z, the last second the sidecar's
    /// four-digit-year timestamp can show.
    public static let maxCreatedUnixSeconds: UInt64 = 253_402_300_799
}
