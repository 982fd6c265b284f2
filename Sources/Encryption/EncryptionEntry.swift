/// A decoded encryption entry of the FSM: opcodes 0x03, 0x04 and 0x05 with its sub-tags (DESIGN §3.7).
///
/// The byte layout of every case is in `docs/formats.md`; ``EncryptionEntry/decode(_:)`` and
/// ``EncryptionEntry/encoded()`` are its only implementation.
public enum EncryptionEntry: Sendable, Hashable {
    /// 0x03: registers writers (a node restarting with a new local epoch, a member added later).
    case writerRegistration([WriterRegistration])
    /// 0x04: installs the first storage and raft DEKs and registers every member for both.
    case bootstrap(Bootstrap)
    /// 0x05/0x01: installs a new DEK, makes it active for its purpose and registers every member for it.
    case rotateDEK(RotateDEK)
    /// 0x05/0x02: replaces the wrapped bytes of DEKs after a KEK rotation; key bytes stay the same.
    case rewrapDEKs([RewrappedDEK])
    /// 0x05/0x03: removes a DEK that nothing needs any more, with its registry rows.
    case retireDEK(KeyID)
    /// 0x05/0x04: from this entry on, every replica seals the values it writes.
    case enableStorageEnvelope
    /// 0x05/0x05: payloads of entries after this one are raft envelopes.
    case enableRaftEnvelope
    /// 0x05/0x06: installs the cluster's index key (purpose ``KeyPurpose/index``), once.
    case createIndexKey(CreateIndexKey)
    /// 0x05/0x07: replaces the cluster's automatic rotation policy.
    case setRotationPolicy(RotationPolicy)
    /// 0x05/0x08: re-seals one range of stored versions under the active storage DEK and moves the
    /// replicated rewrite cursor past it.
    case rewriteChunk(RewriteChunk)

    /// The FSM opcodes this enum covers.
    public enum Opcode {
        /// Writer registration.
        public static let writerRegistration: UInt8 = 0x03
        /// Encryption bootstrap.
        public static let bootstrap: UInt8 = 0x04
        /// Key management; the second byte is a ``SubTag``.
        public static let keyManagement: UInt8 = 0x05
    }

    /// The second byte of a 0x05 entry.
    public enum SubTag {
        /// See ``EncryptionEntry/rotateDEK(_:)``.
        public static let rotateDEK: UInt8 = 0x01
        /// See ``EncryptionEntry/rewrapDEKs(_:)``.
        public static let rewrapDEKs: UInt8 = 0x02
        /// See ``EncryptionEntry/retireDEK(_:)``.
        public static let retireDEK: UInt8 = 0x03
        /// See ``EncryptionEntry/enableStorageEnvelope``.
        public static let enableStorageEnvelope: UInt8 = 0x04
        /// See ``EncryptionEntry/enableRaftEnvelope``.
        public static let enableRaftEnvelope: UInt8 = 0x05
        /// See ``EncryptionEntry/createIndexKey(_:)``.
        public static let createIndexKey: UInt8 = 0x06
        /// See ``EncryptionEntry/setRotationPolicy(_:)``.
        public static let setRotationPolicy: UInt8 = 0x07
        /// See ``EncryptionEntry/rewriteChunk(_:)``.
        public static let rewriteChunk: UInt8 = 0x08
    }

    /// A stored version's place in the store's order (row key, then commit timestamp).
    public struct RowPosition: Sendable, Hashable, Comparable {
        /// The row key as stored; at most ``EntryLimits/maxRowKeyBytes``.
        public let key: [UInt8]
        /// The commit timestamp, below 2^63.
        public let ts: UInt64

        public init(key: [UInt8], ts: UInt64) {
            self.key = key
            self.ts = ts
        }

        public static func < (lhs: RowPosition, rhs: RowPosition) -> Bool {
            lhs.key.lexicographicallyPrecedes(rhs.key) || (lhs.key == rhs.key && lhs.ts < rhs.ts)
        }
    }

    /// The body of a rewrite-chunk entry: the stored versions in `(start, end]` are re-sealed under
    /// `targetKeyID` on every replica.
    ///
    /// A chunk without `start` begins a new run (from the first row); a chunk with one continues the run whose
    /// cursor is exactly `start`, so a chunk proposed twice, or by a leader that had not seen the last one, has
    /// no effect. A chunk without `end` runs to the last row and finishes the run. A chunk whose target is not
    /// the active storage DEK any more (a rotation came first) is superseded.
    public struct RewriteChunk: Sendable, Hashable {
        /// The storage DEK the versions end up under: the active one when the chunk was proposed. Never 0.
        public let targetKeyID: KeyID
        /// The run's rate limit in rows per second (kept so a new leader continues at the same pace); ≥ 1.
        public let rowsPerSecond: UInt32
        /// How many rows the leader found in the range, for progress reports.
        public let examinedRows: UInt32
        /// The cursor the chunk continues from; `nil` for the first chunk of a run.
        public let start: RowPosition?
        /// The last row of the range; `nil` when the range runs to the end (the last chunk).
        public let end: RowPosition?

        public init(targetKeyID: KeyID, rowsPerSecond: UInt32, examinedRows: UInt32, start: RowPosition?,
                    end: RowPosition?) {
            self.targetKeyID = targetKeyID
            self.rowsPerSecond = rowsPerSecond
            self.examinedRows = examinedRows
            self.start = start
            self.end = end
        }

        /// Whether this chunk finishes its run.
        public var isLast: Bool { end == nil }
    }

    /// The body of a create-index-key entry: the key collections' element rows are named with. It takes
    /// effect only while the cluster has no index key, so a second one (committed twice, or proposed by two
    /// leaders) is superseded and never replaces the key existing rows are named with.
    public struct CreateIndexKey: Sendable, Hashable {
        /// When the leader drew the key, in seconds since the Unix epoch; shown in the sidecar.
        public let createdUnixSeconds: UInt64
        /// The key, purpose ``KeyPurpose/index``.
        public let key: NewDEK

        public init(createdUnixSeconds: UInt64, key: NewDEK) {
            self.createdUnixSeconds = createdUnixSeconds
            self.key = key
        }
    }

    /// A DEK introduced by an entry: its id, purpose and wrapped bytes.
    public struct NewDEK: Sendable, Hashable {
        /// The new key's id; never 0.
        public let keyID: KeyID
        /// What the key protects, for its whole life.
        public let purpose: KeyPurpose
        /// The key as the leader's KEK provider wrapped it.
        public let wrapped: WrappedDEK

        public init(keyID: KeyID, purpose: KeyPurpose, wrapped: WrappedDEK) {
            self.keyID = keyID
            self.purpose = purpose
            self.wrapped = wrapped
        }
    }

    /// The body of a bootstrap entry.
    public struct Bootstrap: Sendable, Hashable {
        /// When the leader drew the keys, in seconds since the Unix epoch; shown in the sidecar.
        public let createdUnixSeconds: UInt64
        /// The first storage DEK.
        public let storageKey: NewDEK
        /// The first raft DEK.
        public let raftKey: NewDEK
        /// Every member, at local epoch 0, for both keys.
        public let registrations: [WriterRegistration]

        public init(
            createdUnixSeconds: UInt64, storageKey: NewDEK, raftKey: NewDEK, registrations: [WriterRegistration]
        ) {
            self.createdUnixSeconds = createdUnixSeconds
            self.storageKey = storageKey
            self.raftKey = raftKey
            self.registrations = registrations
        }
    }

    /// The body of a rotate-dek entry.
    ///
    /// The rotation names the key it replaces, so it takes effect only while that key is still the active one:
    /// a rotation committed twice, or proposed against state that another rotation has changed, is superseded
    /// and never re-activates (or re-introduces, after retirement) an older key.
    public struct RotateDEK: Sendable, Hashable {
        /// When the leader drew the key, in seconds since the Unix epoch; shown in the sidecar.
        public let createdUnixSeconds: UInt64
        /// The active key of the purpose when the leader proposed the rotation. Never 0, never ``key``'s id.
        public let replacedKeyID: KeyID
        /// The new DEK; it becomes the active key of its purpose.
        public let key: NewDEK
        /// Every member, at local epoch 0, for the new key.
        public let registrations: [WriterRegistration]

        public init(createdUnixSeconds: UInt64, replacedKeyID: KeyID, key: NewDEK, registrations: [WriterRegistration])
        {
            self.createdUnixSeconds = createdUnixSeconds
            self.replacedKeyID = replacedKeyID
            self.key = key
            self.registrations = registrations
        }
    }

    /// One DEK of a rewrap entry with its new wrapped bytes.
    public struct RewrappedDEK: Sendable, Hashable {
        /// The DEK being re-wrapped.
        public let keyID: KeyID
        /// The same key bytes wrapped under the current KEK.
        public let wrapped: WrappedDEK

        public init(keyID: KeyID, wrapped: WrappedDEK) {
            self.keyID = keyID
            self.wrapped = wrapped
        }
    }
}
