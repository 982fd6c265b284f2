import Synchronization

/// The DEKs a node holds in memory, by id, and the active key of each purpose. Thread-safe.
///
/// Installing an id that is already present is a no-op when bytes and purpose match (replays apply the same
/// entry again) and an error otherwise: a key id names one key for the life of the cluster.
public final class Keystore: Sendable {
    /// One installed key.
    public struct Entry: Sendable {
        public let key: DataEncryptionKey
        public let purpose: KeyPurpose
    }

    private struct State {
        var entries: [KeyID: Entry] = [:]
        var active: [KeyPurpose: KeyID] = [:]
    }

    private let state = Mutex(State())
    private let changeCount = Atomic<UInt64>(0)
    private let sealingClaimed = Atomic<Bool>(false)

    public init() {}

    /// Installs a key.
    ///
    /// - Throws: ``KeystoreError/zeroKeyID`` for id 0; ``KeystoreError/conflictingKey(_:)`` when the id is
    ///   installed with other bytes or another purpose.
    public func install(_ key: DataEncryptionKey, id: KeyID, purpose: KeyPurpose) throws(KeystoreError) {
        guard id != 0 else { throw KeystoreError.zeroKeyID }
        try state.withLock { (state) throws(KeystoreError) in
            if let existing = state.entries[id] {
                guard existing.purpose == purpose, existing.key.hasSameBytes(as: key) else {
                    throw KeystoreError.conflictingKey(id)
                }
                return
            }
            state.entries[id] = Entry(key: key, purpose: purpose)
            changeCount.add(1, ordering: .releasing)
        }
    }

    /// Makes an installed key the one new data of its purpose is sealed with.
    public func activate(id: KeyID, for purpose: KeyPurpose) throws(KeystoreError) {
        try state.withLock { (state) throws(KeystoreError) in
            guard let entry = state.entries[id] else { throw KeystoreError.unknownKeyID(id) }
            guard entry.purpose == purpose else { throw KeystoreError.purposeMismatch(id, expected: purpose) }
            state.active[purpose] = id
            changeCount.add(1, ordering: .releasing)
        }
    }

    /// The installed key with this id, if any.
    public func entry(id: KeyID) -> Entry? {
        state.withLock { $0.entries[id] }
    }

    /// The id of the active key of a purpose, if one was activated.
    public func activeKeyID(for purpose: KeyPurpose) -> KeyID? {
        state.withLock { $0.active[purpose] }
    }

    /// The ids of every installed key, ascending.
    public var keyIDs: [KeyID] {
        state.withLock { $0.entries.keys.sorted() }
    }

    /// A number that grows with every change of keys or active ids, so caches can tell they are stale.
    ///
    /// It is increased after the change, under the same lock: a reader that loads it and then reads the
    /// keystore sees every change counted in the value it loaded.
    public var generation: UInt64 { changeCount.load(ordering: .acquiring) }

    /// Records that a ``SealingKeyring`` seals with this keystore's keys; `false` when one already did.
    ///
    /// Nonce counters live in the keyring, so a second keyring over the same keys would count from 0 again
    /// under the same prefix and reuse nonces. The claim is never released.
    func claimSealing() -> Bool {
        sealingClaimed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    }

    /// Drops a key (retirement). Dropping the active key of a purpose leaves that purpose without one.
    public func remove(id: KeyID) {
        state.withLock { state in
            state.entries[id] = nil
            for (purpose, active) in state.active where active == id { state.active[purpose] = nil }
            changeCount.add(1, ordering: .releasing)
        }
    }
}
