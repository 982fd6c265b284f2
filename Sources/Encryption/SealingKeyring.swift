/// Seals with the active key of a purpose and opens with whichever installed key an envelope names.
///
/// This is what the storage layer and the Raft apply hook call. It reads keys from the node's ``Keystore`` and
/// keeps, per key, an ``EnvelopeKey`` (reusable cipher contexts) and the node's ``NonceFactory``. A node may
/// seal under a key only after start-up has persisted and registered its local epoch for that key and called
/// ``setLocalEpoch(_:for:)``; until then sealing throws ``EnvelopeError/localEpochNotSet(_:)``. Opening needs no
/// epoch. Thread-safe.
public final class SealingKeyring: Sendable {
    /// The keys this keyring seals and opens with.
    public let keystore: Keystore
    /// The first two bytes of every nonce this node makes (``NodeIdentity/node16``).
    public let node16: UInt16

    /// What the keyring derived from the keystore, and the nonce factories it owns.
    ///
    /// Few keys are installed at a time, so linear scans of small arrays beat hashing on the hot path.
    private struct State {
        /// The ``Keystore/generation`` that `keys` and the active ids reflect.
        var generation: UInt64 = .max
        /// Envelope keys for installed ids, made on first use and kept while their bytes stay installed.
        var keys: [EnvelopeKey] = []
        var activeStorageKeyID: KeyID?
        var activeRaftKeyID: KeyID?
        /// This process's nonce factory per key id; independent of keystore changes.
        var nonces: [(keyID: KeyID, factory: NonceFactory)] = []

        func nonceFactory(for keyID: KeyID) -> NonceFactory? {
            nonces.first(where: { $0.keyID == keyID })?.factory
        }

        func activeKeyID(for purpose: KeyPurpose) -> KeyID? {
            purpose == .storage ? activeStorageKeyID : activeRaftKeyID
        }

        func cachedKey(_ id: KeyID) -> EnvelopeKey? {
            keys.first(where: { $0.id == id })
        }

        /// The key and nonces to seal with, when the cache is current for `generation` and complete.
        func sealing(for purpose: KeyPurpose, at generation: UInt64) -> (EnvelopeKey, NonceFactory)? {
            guard self.generation == generation, let id = activeKeyID(for: purpose), let key = cachedKey(id),
                let nonces = nonceFactory(for: id)
            else { return nil }
            return (key, nonces)
        }

        /// The key to open with, when the cache is current for `generation` and holds it for `purpose`.
        func opening(_ id: KeyID, for purpose: KeyPurpose, at generation: UInt64) -> EnvelopeKey? {
            guard self.generation == generation, let key = cachedKey(id), key.purpose == purpose else { return nil }
            return key
        }
    }

    /// Read on every seal and open, written only when the keystore or an epoch changed or a key is first used.
    private let state = ReadWriteLocked(State())

    /// Creates the keyring of `keystore` for the node whose nonces start with `node16`.
    ///
    /// - Precondition: no other keyring was ever made over `keystore`: each would count nonces from 0 under the
    ///   same prefix. Make one keystore and one keyring per process.
    public init(keystore: Keystore, node16: UInt16) {
        precondition(keystore.claimSealing(), "a keystore has exactly one SealingKeyring; a second would reuse nonces")
        self.keystore = keystore
        self.node16 = node16
    }

    /// Lets this process seal under `keyID` with nonces `node16 ‖ epoch ‖ counter`, counter from 0.
    ///
    /// Call it once per key at start-up, after the epoch was persisted (fsynced) and its registration committed,
    /// and for a key installed while running (epoch 0 from its bootstrap or rotation entry). Setting the epoch
    /// already in use is a no-op that keeps the counter; a higher epoch starts a new counter.
    ///
    /// - Throws: ``EnvelopeError/unknownKeyID(_:)`` when the key is not in the keystore;
    ///   ``EnvelopeError/localEpochRegression(keyID:current:requested:)`` for an epoch below the one in use.
    public func setLocalEpoch(_ epoch: UInt16, for keyID: KeyID) throws(EnvelopeError) {
        guard keystore.entry(id: keyID) != nil else { throw EnvelopeError.unknownKeyID(keyID) }
        try state.write { (state) throws(EnvelopeError) in
            let index = state.nonces.firstIndex(where: { $0.keyID == keyID })
            if let index {
                let current = state.nonces[index].factory.localEpoch
                if current == epoch { return }
                guard current < epoch else {
                    throw EnvelopeError.localEpochRegression(keyID: keyID, current: current, requested: epoch)
                }
            }
            let factory = NonceFactory(node16: node16, localEpoch: epoch)
            if let index { state.nonces[index].factory = factory } else { state.nonces.append((keyID, factory)) }
        }
    }

    /// The local epoch this process seals with under `keyID`, if set.
    public func localEpoch(for keyID: KeyID) -> UInt16? {
        state.read { $0.nonceFactory(for: keyID)?.localEpoch }
    }

    /// How many nonces this process used under `keyID` (0 when the epoch is not set).
    public func sealCount(for keyID: KeyID) -> UInt64 {
        state.read { $0.nonceFactory(for: keyID)?.issuedCount ?? 0 }
    }

    /// Seals `plaintext` with the active key of `context.purpose` into the start of `output`.
    ///
    /// - Parameters:
    ///   - plaintext: the value or payload; must not overlap `output`.
    ///   - context: what the envelope is bound to.
    ///   - isCompressed: storage flag bit 0 (never for raft).
    ///   - output: room for ``Envelope/sealedByteCount(plaintextByteCount:)`` bytes.
    /// - Returns: the number of bytes written.
    /// - Throws: ``EnvelopeError/noActiveKey(_:)``, ``EnvelopeError/localEpochNotSet(_:)``,
    ///   ``EnvelopeError/nonceCounterExhausted(node16:localEpoch:)`` and the errors of
    ///   ``Envelope/seal(_:using:nonce:authenticating:isCompressed:into:)``.
    public func seal(
        _ plaintext: UnsafeRawBufferPointer,
        authenticating context: EnvelopeContext,
        isCompressed: Bool = false,
        into output: UnsafeMutableRawBufferPointer
    ) throws(EnvelopeError) -> Int {
        let (key, nonces) = try sealingState(for: context.purpose)
        let nonce = try nonces.next()
        return try Envelope.seal(
            plaintext, using: key, nonce: nonce, authenticating: context, isCompressed: isCompressed, into: output)
    }

    /// Seals `plaintext` with the active key of `context.purpose` into a new array.
    ///
    /// - Throws: as ``seal(_:authenticating:isCompressed:into:)``.
    public func seal(
        _ plaintext: [UInt8], authenticating context: EnvelopeContext, isCompressed: Bool = false
    ) throws(EnvelopeError) -> [UInt8] {
        try plaintext.withBytes { (input) throws(EnvelopeError) in
            try Envelope.makeBytes(count: Envelope.sealedByteCount(plaintextByteCount: input.count)) {
                (output) throws(EnvelopeError) in
                try seal(input, authenticating: context, isCompressed: isCompressed, into: output)
            }
        }
    }

    /// Opens `envelope` with the installed key it names, into the start of `output`.
    ///
    /// - Returns: the number of plaintext bytes written; the compressed flag is in ``EnvelopeHeader``.
    /// - Throws: the header errors of ``EnvelopeHeader/init(parsing:purpose:)``,
    ///   ``EnvelopeError/unknownKeyID(_:)``, ``EnvelopeError/purposeMismatch(keyID:keyPurpose:expected:)``,
    ///   ``EnvelopeError/outputTooSmall(required:available:)`` or ``EnvelopeError/integrityFailure(keyID:)``.
    public func open(
        _ envelope: UnsafeRawBufferPointer, authenticating context: EnvelopeContext,
        into output: UnsafeMutableRawBufferPointer
    ) throws(EnvelopeError) -> Int {
        let header = try EnvelopeHeader(parsing: envelope, purpose: context.purpose)
        let key = try openingKey(header.keyID, for: context.purpose)
        return try Envelope.open(envelope, using: key, authenticating: context, into: output)
    }

    /// Opens `envelope` with the installed key it names, into a new array.
    ///
    /// - Throws: as ``open(_:authenticating:into:)``.
    public func open(_ envelope: [UInt8], authenticating context: EnvelopeContext) throws(EnvelopeError) -> [UInt8] {
        try envelope.withBytes { (input) throws(EnvelopeError) in
            try Envelope.makeBytes(count: max(input.count - Envelope.overheadByteCount, 0)) {
                (output) throws(EnvelopeError) in
                try open(input, authenticating: context, into: output)
            }
        }
    }

    private func sealingState(for purpose: KeyPurpose) throws(EnvelopeError) -> (EnvelopeKey, NonceFactory) {
        let generation = keystore.generation
        if let cached = state.read({ $0.sealing(for: purpose, at: generation) }) { return cached }
        return try state.write { (state) throws(EnvelopeError) in
            refresh(&state, to: generation)
            guard let id = state.activeKeyID(for: purpose), let key = envelopeKey(id, in: &state) else {
                throw EnvelopeError.noActiveKey(purpose)
            }
            guard let nonces = state.nonceFactory(for: id) else { throw EnvelopeError.localEpochNotSet(id) }
            return (key, nonces)
        }
    }

    private func openingKey(_ id: KeyID, for purpose: KeyPurpose) throws(EnvelopeError) -> EnvelopeKey {
        let generation = keystore.generation
        if let cached = state.read({ $0.opening(id, for: purpose, at: generation) }) { return cached }
        return try state.write { (state) throws(EnvelopeError) in
            refresh(&state, to: generation)
            guard let key = envelopeKey(id, in: &state) else { throw EnvelopeError.unknownKeyID(id) }
            guard key.purpose == purpose else {
                throw EnvelopeError.purposeMismatch(keyID: id, keyPurpose: key.purpose, expected: purpose)
            }
            return key
        }
    }

    /// Brings the cached active ids and keys up to the keystore's `generation`, keeping the envelope keys
    /// (and their warm cipher contexts) whose bytes are still installed under the same id and purpose.
    private func refresh(_ state: inout State, to generation: UInt64) {
        guard state.generation != generation else { return }
        state.keys.removeAll { key in
            guard let entry = keystore.entry(id: key.id) else { return true }
            return entry.key.secret !== key.secret || entry.purpose != key.purpose
        }
        state.activeStorageKeyID = keystore.activeKeyID(for: .storage)
        state.activeRaftKeyID = keystore.activeKeyID(for: .raft)
        state.generation = generation
    }

    /// The envelope key for an installed id, made from the keystore on first use; `nil` when not installed.
    private func envelopeKey(_ id: KeyID, in state: inout State) -> EnvelopeKey? {
        if let key = state.cachedKey(id) { return key }
        guard let entry = keystore.entry(id: id) else { return nil }
        do throws(EnvelopeError) {
            let key = try EnvelopeKey(entry.key, id: id, purpose: entry.purpose)
            state.keys.append(key)
            return key
        } catch {
            preconditionFailure("the keystore never holds key id 0")
        }
    }
}
