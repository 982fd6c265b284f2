extension EncryptionApplier {
    /// 0x04: installs the first two DEKs; a second bootstrap must be byte-identical to the first.
    func applyBootstrap(
        _ body: EncryptionEntry.Bootstrap, payload: [UInt8], index: UInt64
    ) throws(ApplyHalt) -> ApplyOutcome {
        let newKeys = [body.storageKey, body.raftKey]
        try checkNewKeyRegistrations(body.registrations, newKeyIDs: Set(newKeys.map(\.keyID)), index: index)
        let digest = PayloadDigest.sha256(payload)
        if let current = sidecar {
            guard current.bootstrapDigest == digest else {
                throw ApplyHalt(index: index, reason: .conflictingBootstrap)
            }
            guard isReplay(index) else { return .alreadyApplied }
            return try replayRegistrations(body.registrations, index: index)
        }
        let rows: [WriterRegistryKey: WriterRegistryRow]
        switch try planRegistrations(body.registrations, index: index) {
        case .failure(let error): return .rejected(error)
        case .success(let planned): rows = planned
        }
        var unwrapped: [DataEncryptionKey] = []
        for key in newKeys { unwrapped.append(try unwrap(key.wrapped, keyID: key.keyID, index: index)) }
        for (key, dek) in zip(newKeys, unwrapped) {
            try install(dek, id: key.keyID, purpose: key.purpose, index: index)
        }
        let created = Sidecar.createdTimestamp(unixSeconds: body.createdUnixSeconds)
        var keys: [KeyID: Sidecar.Key] = [:]
        for key in newKeys {
            keys[key.keyID] = Sidecar.Key(purpose: key.purpose, wrapped: key.wrapped, created: created, localEpoch: 0)
        }
        let next = Sidecar(
            raftAppliedIndex: index, activeKeyIDs: [.storage: body.storageKey.keyID, .raft: body.raftKey.keyID],
            keys: keys, bootstrapDigest: digest)
        try persist(next, index: index)
        for key in newKeys { try activate(key.keyID, for: key.purpose, index: index) }
        try writeRows(rows, index: index)
        return .applied
    }

    /// 0x05/0x01: installs a new DEK at local epoch 0 and makes it active for its purpose, if the key it
    /// replaces is still active.
    func applyRotation(_ body: EncryptionEntry.RotateDEK, index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        let key = body.key
        try checkNewKeyRegistrations(body.registrations, newKeyIDs: [key.keyID], index: index)
        var next = try bootstrappedSidecar(index)
        if isReplay(index) { return try replayRegistrations(body.registrations, index: index) }
        if let existing = next.keys[key.keyID] {
            // The same rotation committed twice: the first one installed it; never re-activate an older key.
            guard existing.purpose == key.purpose else {
                throw ApplyHalt(index: index, reason: .keyIDReused(key.keyID))
            }
            return .alreadyApplied
        }
        guard next.activeKeyIDs[key.purpose] == body.replacedKeyID else { return .superseded }
        let rows: [WriterRegistryKey: WriterRegistryRow]
        switch try planRegistrations(body.registrations, index: index) {
        case .failure(let error): return .rejected(error)
        case .success(let planned): rows = planned
        }
        let dek = try unwrap(key.wrapped, keyID: key.keyID, index: index)
        try install(dek, id: key.keyID, purpose: key.purpose, index: index)
        next.keys[key.keyID] = Sidecar.Key(
            purpose: key.purpose, wrapped: key.wrapped,
            created: Sidecar.createdTimestamp(unixSeconds: body.createdUnixSeconds), localEpoch: 0)
        next.activeKeyIDs[key.purpose] = key.keyID
        next.raftAppliedIndex = index
        try persist(next, index: index)
        try activate(key.keyID, for: key.purpose, index: index)
        try writeRows(rows, index: index)
        return .applied
    }

    /// 0x05/0x02: replaces wrapped bytes; each must unwrap to the key bytes the keystore already holds.
    ///
    /// A key retired between proposal and commit has nothing left to re-wrap and is skipped; when every key of
    /// the entry is gone the entry is superseded.
    func applyRewrap(_ keys: [EncryptionEntry.RewrappedDEK], index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        var next = try bootstrappedSidecar(index)
        if isReplay(index) { return .alreadyApplied }
        let present = keys.filter { next.keys[$0.keyID] != nil }
        guard !present.isEmpty else { return .superseded }
        for key in present {
            var record = next.keys[key.keyID]!
            let dek = try unwrap(key.wrapped, keyID: key.keyID, index: index)
            guard let installed = keystore.entry(id: key.keyID), installed.key.hasSameBytes(as: dek) else {
                throw ApplyHalt(index: index, reason: .rewrapChangesKey(key.keyID))
            }
            record.wrapped = key.wrapped
            next.keys[key.keyID] = record
        }
        next.raftAppliedIndex = index
        try persist(next, index: index)
        return .applied
    }

    /// 0x05/0x03: removes an inactive DEK from the sidecar, the keystore and the registry.
    func applyRetirement(_ keyID: KeyID, index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        var next = try bootstrappedSidecar(index)
        if isReplay(index) {
            try removeRows(dekID: keyID, index: index)
            return .alreadyApplied
        }
        guard let record = next.keys[keyID] else { throw ApplyHalt(index: index, reason: .unknownKey(keyID)) }
        guard next.activeKeyIDs[record.purpose] != keyID else {
            throw ApplyHalt(index: index, reason: .retiringActiveKey(keyID))
        }
        next.keys[keyID] = nil
        next.raftAppliedIndex = index
        try persist(next, index: index)
        keystore.remove(id: keyID)
        try removeRows(dekID: keyID, index: index)
        return .applied
    }

    /// 0x05/0x04: turns the storage envelope on; a second enable is a no-op.
    func applyEnableStorageEnvelope(index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        var next = try bootstrappedSidecar(index)
        if isReplay(index) {
            // The switch is one-way: a sidecar that holds this entry's effect has the flag set.
            guard next.storageEnvelopeActive else { throw ApplyHalt(index: index, reason: .storageEnvelopeDivergence) }
            return .alreadyApplied
        }
        guard next.activeKeyIDs[.storage] != nil else { throw ApplyHalt(index: index, reason: .noActiveKey(.storage)) }
        if next.storageEnvelopeActive { return .alreadyApplied }
        next.storageEnvelopeActive = true
        next.raftAppliedIndex = index
        try persist(next, index: index)
        return .applied
    }

    /// 0x05/0x05: records the raft cut-over at this index (the first one wins) and installs the wrap state.
    func applyEnableRaftEnvelope(index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        var next = try bootstrappedSidecar(index)
        if let recorded = next.raftEnvelopeCutoverIndex {
            // A later enable (committed twice) keeps the first cut-over; an earlier one contradicts it.
            guard recorded <= index else {
                throw ApplyHalt(index: index, reason: .cutoverDivergence(recorded: recorded))
            }
            installRaftEnvelope(recorded)
            return .alreadyApplied
        }
        guard !isReplay(index) else { throw ApplyHalt(index: index, reason: .cutoverDivergence(recorded: nil)) }
        guard next.activeKeyIDs[.raft] != nil else { throw ApplyHalt(index: index, reason: .noActiveKey(.raft)) }
        next.raftEnvelopeCutoverIndex = index
        next.raftAppliedIndex = index
        try persist(next, index: index)
        installRaftEnvelope(index)
        return .applied
    }

    /// 0x05/0x06: installs the index key and makes it active, unless the cluster already has one.
    func applyCreateIndexKey(_ body: EncryptionEntry.CreateIndexKey, index: UInt64) throws(ApplyHalt)
        -> ApplyOutcome
    {
        let key = body.key
        var next = try bootstrappedSidecar(index)
        if isReplay(index) { return .alreadyApplied }
        if let existing = next.keys[key.keyID] {
            guard existing.purpose == .index else { throw ApplyHalt(index: index, reason: .keyIDReused(key.keyID)) }
            return .alreadyApplied
        }
        // Collections name their rows with the first index key for good: a later one never replaces it.
        guard next.activeKeyIDs[.index] == nil else { return .superseded }
        let dek = try unwrap(key.wrapped, keyID: key.keyID, index: index)
        try install(dek, id: key.keyID, purpose: .index, index: index)
        next.keys[key.keyID] = Sidecar.Key(
            purpose: .index, wrapped: key.wrapped,
            created: Sidecar.createdTimestamp(unixSeconds: body.createdUnixSeconds), localEpoch: 0)
        next.activeKeyIDs[.index] = key.keyID
        next.raftAppliedIndex = index
        try persist(next, index: index)
        try activate(key.keyID, for: .index, index: index)
        return .applied
    }

    /// 0x05/0x07: replaces the rotation policy; the same policy again changes nothing.
    func applySetRotationPolicy(_ policy: RotationPolicy, index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        var next = try bootstrappedSidecar(index)
        if isReplay(index) || next.rotationPolicy == policy { return .alreadyApplied }
        next.rotationPolicy = policy
        next.raftAppliedIndex = index
        try persist(next, index: index)
        return .applied
    }

    /// 0x05/0x08: decides whether a rewrite chunk is current: its target is still the active storage DEK and
    /// the storage envelope is on. The store's part (re-sealing, the cursor) is the caller's, in the same
    /// transaction; the sidecar does not change.
    func applyRewriteChunk(_ chunk: EncryptionEntry.RewriteChunk, index: UInt64) throws(ApplyHalt) -> ApplyOutcome {
        let current = try bootstrappedSidecar(index)
        guard current.storageEnvelopeActive, current.activeKeyIDs[.storage] == chunk.targetKeyID else {
            return .superseded
        }
        return .applied
    }

    /// Re-applies the registry rows of a replayed bootstrap or rotation whose sidecar effect is already on disk.
    private func replayRegistrations(_ registrations: [WriterRegistration], index: UInt64) throws(ApplyHalt)
        -> ApplyOutcome
    {
        switch try planRegistrations(registrations, index: index) {
        case .failure(let error): return .rejected(error)
        case .success(let rows):
            try writeRows(rows, index: index)
            return .alreadyApplied
        }
    }
}
