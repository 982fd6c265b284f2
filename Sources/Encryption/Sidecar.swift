/// The content of `<data-dir>/encryption/keys.json` (DESIGN §3.5): the replicated key state a node needs before
/// it can read anything, plus its node-local epochs.
///
/// Holds wrapped keys only, so the file is safe to leak. ``description`` shows ids, purposes and epochs, never
/// wrapped bytes. The JSON form is in `Sidecar+JSON.swift`; the file protocol in ``SidecarFile``.
public struct Sidecar: Sendable, Hashable, CustomStringConvertible {
    /// The only `version` this build reads and writes.
    public static let formatVersion = 1

    /// The largest `keys.json` read or written: room for thousands of unretired keys, and a bound on what a
    /// corrupt or hostile file can make start-up allocate.
    public static let maxFileBytes = 4 << 20

    /// Bytes of a SHA-256 digest, the form of ``bootstrapDigest``.
    public static let bootstrapDigestByteCount = 32

    /// One DEK as the sidecar keeps it.
    public struct Key: Sendable, Hashable {
        /// What the key protects.
        public var purpose: KeyPurpose
        /// The key as the KEK provider wrapped it.
        public var wrapped: WrappedDEK
        /// When the leader drew the key, as `YYYY-MM-DDTHH:MM:SSZ`.
        public var created: String
        /// This node's epoch for the key: bumped and made durable at every start before the first seal.
        public var localEpoch: UInt16

        public init(purpose: KeyPurpose, wrapped: WrappedDEK, created: String, localEpoch: UInt16) {
            self.purpose = purpose
            self.wrapped = wrapped
            self.created = created
            self.localEpoch = localEpoch
        }
    }

    /// The index of the last encryption entry whose effect this content holds.
    public var raftAppliedIndex: UInt64
    /// Whether values written from now on are sealed.
    public var storageEnvelopeActive: Bool
    /// The index of the enable-raft-envelope entry; payloads of later entries are raft envelopes.
    public var raftEnvelopeCutoverIndex: UInt64?
    /// The key each purpose seals new data with.
    public var activeKeyIDs: [KeyPurpose: KeyID]
    /// Every unretired DEK.
    public var keys: [KeyID: Key]
    /// SHA-256 of the bootstrap entry's payload, so a second bootstrap can be compared with the first.
    public var bootstrapDigest: [UInt8]?
    /// The automatic rotation policy a 0x05/0x07 entry set; `nil` until one did (``RotationPolicy/default``
    /// applies then).
    public var rotationPolicy: RotationPolicy?

    /// The policy in force: the one set, or the default.
    public var effectiveRotationPolicy: RotationPolicy { rotationPolicy ?? .default }

    /// Builds sidecar content; ``validate(path:)`` checks it.
    public init(
        raftAppliedIndex: UInt64, storageEnvelopeActive: Bool = false, raftEnvelopeCutoverIndex: UInt64? = nil,
        activeKeyIDs: [KeyPurpose: KeyID], keys: [KeyID: Key], bootstrapDigest: [UInt8]? = nil,
        rotationPolicy: RotationPolicy? = nil
    ) {
        self.raftAppliedIndex = raftAppliedIndex
        self.storageEnvelopeActive = storageEnvelopeActive
        self.raftEnvelopeCutoverIndex = raftEnvelopeCutoverIndex
        self.activeKeyIDs = activeKeyIDs
        self.keys = keys
        self.bootstrapDigest = bootstrapDigest
        self.rotationPolicy = rotationPolicy
    }

    /// Checks the rules that tie fields together.
    ///
    /// - Throws: ``SidecarError`` when a key id is 0, an active id names no key or a key of another purpose,
    ///   the cut-over index is 0 or ahead of ``raftAppliedIndex``, or the digest has the wrong size.
    public func validate(path: String) throws(SidecarError) {
        if keys[0] != nil { throw SidecarError(.invalidKeyID, path: path) }
        for (purpose, id) in activeKeyIDs.sorted(by: { $0.key.wireValue < $1.key.wireValue }) {
            guard let key = keys[id] else { throw SidecarError(.activeKeyMissing(purpose, id), path: path) }
            guard key.purpose == purpose else {
                throw SidecarError(.activeKeyPurposeMismatch(purpose, id), path: path)
            }
        }
        if let cutover = raftEnvelopeCutoverIndex, cutover == 0 || cutover > raftAppliedIndex {
            throw SidecarError(.invalidCutoverIndex, path: path)
        }
        if let digest = bootstrapDigest, digest.count != Self.bootstrapDigestByteCount {
            throw SidecarError(.invalidBootstrapDigest, path: path)
        }
        if let policy = rotationPolicy, !policy.isValid { throw SidecarError(.invalidRotationPolicy, path: path) }
    }

    public var description: String {
        let keyList = keys.keys.sorted().map { id in
            "\(id):\(keys[id]!.purpose.rawValue)@\(keys[id]!.localEpoch)"
        }
        let cutover = raftEnvelopeCutoverIndex.map(String.init) ?? "none"
        return "Sidecar(index \(raftAppliedIndex), storage envelope \(storageEnvelopeActive), raft cut-over "
            + "\(cutover), active storage \(activeKeyIDs[.storage] ?? 0) raft \(activeKeyIDs[.raft] ?? 0), "
            + "keys [\(keyList.joined(separator: ", "))])"
    }
}
