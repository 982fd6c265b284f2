/// Applies the committed encryption entries (opcodes 0x03, 0x04, 0x05) of the FSM on one replica.
///
/// Each entry is validated whole before anything changes; then its keys are unwrapped and installed in the
/// keystore, the sidecar is written crash-durably with `raft_applied_index` = the entry's index, new keys are
/// activated, and registry rows are written — in that order. Activation follows the sidecar write so that no
/// value is sealed under a key whose local epoch a crash could still lose.
///
/// Every entry can be applied again with the same result: an entry whose index is at or below the sidecar's
/// `raft_applied_index` is a replay, whose sidecar effect is already on disk (and may since have been
/// superseded), so only its registry rows are re-applied; such entries are never unwrapped, because the KEK may
/// have been rotated since. Local epochs are never lowered: new keys start at 0 and existing keys keep theirs.
///
/// Not thread-safe: the node's apply loop owns the applier, as it owns the FSM.
public final class EncryptionApplier {
    /// Called with the cut-over index when an enable-raft-envelope entry is applied, first time or replayed.
    public typealias RaftEnvelopeInstaller = (_ cutoverIndex: UInt64) -> Void

    public let kekProvider: any KEKProvider
    public let keystore: Keystore
    public let sidecarFile: SidecarFile
    let registry: any WriterRegistryStore
    let installRaftEnvelope: RaftEnvelopeInstaller

    /// The sidecar content as of the last entry applied; `nil` before the bootstrap.
    public internal(set) var sidecar: Sidecar?

    /// Creates the applier for a node's loaded encryption state.
    ///
    /// - Parameters:
    ///   - kekProvider: unwraps the DEKs of new entries.
    ///   - keystore: the node's keystore, already holding the sidecar's keys.
    ///   - sidecarFile: where the sidecar lives.
    ///   - sidecar: the sidecar as loaded (and epoch-bumped) at start-up; `nil` when there is none.
    ///   - registry: the FSM's writer-registry rows.
    ///   - installRaftEnvelope: switches wrap-on-propose and the apply hook's unwrap on, from the given index.
    public init(
        kekProvider: any KEKProvider, keystore: Keystore, sidecarFile: SidecarFile, sidecar: Sidecar?,
        registry: any WriterRegistryStore, installRaftEnvelope: @escaping RaftEnvelopeInstaller
    ) {
        self.kekProvider = kekProvider
        self.keystore = keystore
        self.sidecarFile = sidecarFile
        self.sidecar = sidecar
        self.registry = registry
        self.installRaftEnvelope = installRaftEnvelope
    }

    /// Applies one committed entry.
    ///
    /// - Parameters:
    ///   - payload: the FSM payload (already unwrapped from a raft envelope), opcode first.
    ///   - index: the entry's Raft index.
    /// - Returns: whether the entry changed state, was already reflected, or was refused by the registry rules.
    /// - Throws: ``ApplyHalt``; the node must then stop applying without advancing its applied index.
    public func apply(payload: [UInt8], index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        precondition(index > 0, "Raft entry indexes start at 1")
        let entry: EncryptionEntry
        do { entry = try EncryptionEntry.decode(payload) } catch {
            throw ApplyHalt(index: index, reason: .malformedEntry(error))
        }
        switch entry {
        case .writerRegistration(let registrations):
            return try applyRegistrations(registrations, index: index)
        case .bootstrap(let body):
            return try applyBootstrap(body, payload: payload, index: index)
        case .rotateDEK(let body):
            return try applyRotation(body, index: index)
        case .rewrapDEKs(let keys):
            return try applyRewrap(keys, index: index)
        case .retireDEK(let keyID):
            return try applyRetirement(keyID, index: index)
        case .enableStorageEnvelope:
            return try applyEnableStorageEnvelope(index: index)
        case .enableRaftEnvelope:
            return try applyEnableRaftEnvelope(index: index)
        case .createIndexKey(let body):
            return try applyCreateIndexKey(body, index: index)
        case .setRotationPolicy(let policy):
            return try applySetRotationPolicy(policy, index: index)
        case .rewriteChunk(let chunk):
            return try applyRewriteChunk(chunk, index: index)
        }
    }

    /// The local epoch this process seals with under a DEK (`NonceFactory(node16:localEpoch:)`).
    ///
    /// For keys loaded at start-up this is the bumped epoch; for keys a bootstrap or rotation installed while
    /// the process runs it is 0, as the entry registered it. `nil` for keys the node does not hold.
    public func sealingLocalEpoch(for keyID: KeyID) -> UInt16? {
        sidecar?.keys[keyID]?.localEpoch
    }

    /// Whether this node may seal under a DEK now: the nonce invariant of DESIGN §3.6.
    ///
    /// True only when the registry row `(keyID, node16)` belongs to this node and its last epoch is exactly the
    /// epoch this process seals with. After a restart that is false until the registration of
    /// ``EncryptionState/requiredRegistrations`` has been applied; the sealer must wait (or refuse) until then.
    /// - Throws: the registry store's error.
    public func maySeal(under keyID: KeyID, as identity: NodeIdentity) throws(WriterRegistryStoreError) -> Bool {
        guard let epoch = sealingLocalEpoch(for: keyID) else { return false }
        guard let row = try registry.row(for: WriterRegistryKey(dekID: keyID, node16: identity.node16)) else {
            return false
        }
        return row.fullNodeID == identity.fullNodeID && row.lastSeenLocalEpoch == epoch
    }

    /// Whether the sidecar already holds the effect of the entry at `index`.
    func isReplay(_ index: UInt64) -> Bool {
        index <= (sidecar?.raftAppliedIndex ?? 0)
    }

    func bootstrappedSidecar(_ index: UInt64) throws(ApplyHalt) -> Sidecar {
        guard let sidecar else { throw ApplyHalt(index: index, reason: .notBootstrapped) }
        return sidecar
    }

    // MARK: - Registry

    /// The rows a batch would write, or the rule it breaks; reads the store but changes nothing.
    func planRegistrations(
        _ registrations: [WriterRegistration], index: UInt64
    ) throws(ApplyHalt) -> Result<[WriterRegistryKey: WriterRegistryRow], WriterRegistryError> {
        var existing: [WriterRegistryKey: WriterRegistryRow] = [:]
        do {
            for key in Set(registrations.map(\.registryKey)) {
                if let row = try registry.row(for: key) { existing[key] = row }
            }
        } catch {
            throw ApplyHalt(index: index, reason: .registryStoreFailed(error))
        }
        do { return .success(try WriterRegistry.plan(registrations, existing: existing)) } catch {
            return .failure(error)
        }
    }

    func writeRows(_ rows: [WriterRegistryKey: WriterRegistryRow], index: UInt64) throws(ApplyHalt) {
        do {
            for (key, row) in rows.sorted(by: { ($0.key.dekID, $0.key.node16) < ($1.key.dekID, $1.key.node16) }) {
                try registry.setRow(row, for: key)
            }
        } catch {
            throw ApplyHalt(index: index, reason: .registryStoreFailed(error))
        }
    }

    func removeRows(dekID: KeyID, index: UInt64) throws(ApplyHalt) {
        do { try registry.removeRows(dekID: dekID) } catch {
            throw ApplyHalt(index: index, reason: .registryStoreFailed(error))
        }
    }

    private func applyRegistrations(_ registrations: [WriterRegistration], index: UInt64) throws(ApplyHalt)
        -> ApplyOutcome
    {
        switch try planRegistrations(registrations, index: index) {
        case .failure(let error):
            return .rejected(error)
        case .success(let rows):
            try writeRows(rows, index: index)
            return rows.isEmpty ? .alreadyApplied : .applied
        }
    }

    // MARK: - Keys and sidecar

    func unwrap(_ wrapped: WrappedDEK, keyID: KeyID, index: UInt64) throws(ApplyHalt) -> DataEncryptionKey {
        do { return try kekProvider.unwrap(wrapped) } catch {
            guard KEKRing.isTransient(error) else { throw ApplyHalt(index: index, reason: .kekMismatch(keyID)) }
            throw ApplyHalt(index: index, reason: .kekUnavailable(keyID, reason: "\(error)"))
        }
    }

    func install(_ key: DataEncryptionKey, id: KeyID, purpose: KeyPurpose, index: UInt64) throws(ApplyHalt) {
        do { try keystore.install(key, id: id, purpose: purpose) } catch {
            throw ApplyHalt(index: index, reason: .keystoreRejected(error))
        }
    }

    func activate(_ id: KeyID, for purpose: KeyPurpose, index: UInt64) throws(ApplyHalt) {
        do { try keystore.activate(id: id, for: purpose) } catch {
            throw ApplyHalt(index: index, reason: .keystoreRejected(error))
        }
    }

    /// Writes the next sidecar durably and adopts it; `raft_applied_index` must already be the entry's index.
    func persist(_ next: Sidecar, index: UInt64) throws(ApplyHalt) {
        precondition(next.raftAppliedIndex == index, "a sidecar write records the index of the entry it applies")
        for (id, key) in next.keys {
            if let old = sidecar?.keys[id] {
                precondition(key.localEpoch >= old.localEpoch, "applying an entry never lowers a local epoch")
            }
        }
        do { try sidecarFile.write(next) } catch {
            throw ApplyHalt(index: index, reason: .sidecarWriteFailed(error))
        }
        sidecar = next
    }

    /// Checks that every registration of a bootstrap or rotation targets one of its new keys at epoch 0.
    func checkNewKeyRegistrations(
        _ registrations: [WriterRegistration], newKeyIDs: Set<KeyID>, index: UInt64
    ) throws(ApplyHalt) {
        for registration in registrations {
            guard newKeyIDs.contains(registration.dekID) else {
                throw ApplyHalt(index: index, reason: .registrationForOtherKey(registration.dekID))
            }
            guard registration.localEpoch == 0 else {
                throw ApplyHalt(
                    index: index, reason: .registrationEpochNotZero(registration.dekID, registration.localEpoch))
            }
        }
    }
}

extension EncryptionApplier {
    /// Adopts the replicated encryption state that an installed snapshot carried, before any later entry applies.
    ///
    /// New keys are unwrapped, installed at the epoch the registry committed for this node (0 when none: a
    /// node that never held a key never sealed under it) and activated as the state says; keys the state no longer lists were retired and leave the keystore;
    /// keys the node already holds keep their local epoch. The sidecar is written crash-durably first.
    /// - Parameters:
    ///   - replicated: the state as the snapshot holds it; its local epochs are ignored.
    ///   - registeredEpochs: for keys this node does not hold yet, the epoch the registry committed for it
    ///     (a member added later is registered before it joins, above any epoch an earlier life of its node id
    ///     used); keys without one start at 0.
    /// - Returns: whether anything changed (`false` when the sidecar already holds this state or a later one).
    /// - Throws: ``ApplyHalt`` at the state's index: a different bootstrap or cut-over than this node's, a key
    ///   that does not unwrap, or a failed sidecar write.
    @discardableResult
    public func adopt(_ replicated: Sidecar, registeredEpochs: [KeyID: UInt16] = [:]) throws(ApplyHalt) -> Bool {
        let index = replicated.raftAppliedIndex
        guard index > (sidecar?.raftAppliedIndex ?? 0) else { return false }
        if let current = sidecar {
            guard current.bootstrapDigest == replicated.bootstrapDigest else {
                throw ApplyHalt(index: index, reason: .conflictingBootstrap)
            }
            if let recorded = current.raftEnvelopeCutoverIndex, recorded != replicated.raftEnvelopeCutoverIndex {
                throw ApplyHalt(index: index, reason: .cutoverDivergence(recorded: recorded))
            }
        }
        var next = replicated
        for id in replicated.keys.keys.sorted() {
            if let held = sidecar?.keys[id] {
                next.keys[id]!.localEpoch = held.localEpoch
            } else {
                next.keys[id]!.localEpoch = registeredEpochs[id] ?? 0
                let record = replicated.keys[id]!
                try install(try unwrap(record.wrapped, keyID: id, index: index), id: id, purpose: record.purpose,
                            index: index)
            }
        }
        try persist(next, index: index)
        for (purpose, id) in next.activeKeyIDs.sorted(by: { $0.key.wireValue < $1.key.wireValue }) {
            try activate(id, for: purpose, index: index)
        }
        for id in keystore.keyIDs where next.keys[id] == nil { keystore.remove(id: id) }
        if let cutover = next.raftEnvelopeCutoverIndex { installRaftEnvelope(cutover) }
        return true
    }
}

extension Sidecar {
    /// The part of the content every replica shares: the same keys, flags and indexes with local epochs 0.
    public var replicatedState: Sidecar {
        var state = self
        for id in state.keys.keys { state.keys[id]!.localEpoch = 0 }
        return state
    }
}

extension EncryptionApplier {
    /// Raises this node's local epochs (never lowers them) and writes the sidecar crash-durably.
    ///
    /// Used when the cluster refused a restart registration as a rollback: the node must move past the epoch
    /// the registry already holds before it registers again.
    /// - Throws: ``SidecarError`` when the write fails; the in-memory sidecar is then unchanged.
    public func raiseLocalEpochs(_ epochs: [KeyID: UInt16]) throws(SidecarError) {
        guard var next = sidecar else { return }
        for (id, epoch) in epochs where next.keys[id] != nil {
            next.keys[id]!.localEpoch = max(next.keys[id]!.localEpoch, epoch)
        }
        try sidecarFile.write(next)
        sidecar = next
    }
}
