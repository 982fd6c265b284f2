import Synchronization

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

    /// What the keyring keeps per key id.
    private struct Slot {
        var key: EnvelopeKey?
        var nonces: NonceFactory?
    }

    private let slots = Mutex<[KeyID: Slot]>([:])

    /// Creates a keyring over `keystore` for the node whose nonces start with `node16`.
    public init(keystore: Keystore, node16: UInt16) {
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
        try slots.withLock { (slots) throws(EnvelopeError) in
            var slot = slots[keyID] ?? Slot()
            if let current = slot.nonces?.localEpoch {
                if current == epoch { return }
                guard current < epoch else {
                    throw EnvelopeError.localEpochRegression(keyID: keyID, current: current, requested: epoch)
                }
            }
            slot.nonces = NonceFactory(node16: node16, localEpoch: epoch)
            slots[keyID] = slot
        }
    }

    /// The local epoch this process seals with under `keyID`, if set.
    public func localEpoch(for keyID: KeyID) -> UInt16? {
        slots.withLock { $0[keyID]?.nonces?.localEpoch }
    }

    /// How many nonces this process used under `keyID` (0 when the epoch is not set).
    public func sealCount(for keyID: KeyID) -> UInt64 {
        slots.withLock { $0[keyID]?.nonces?.issuedCount ?? 0 }
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
        guard let entry = keystore.entry(id: header.keyID) else { throw EnvelopeError.unknownKeyID(header.keyID) }
        guard entry.purpose == context.purpose else {
            throw EnvelopeError.purposeMismatch(
                keyID: header.keyID, keyPurpose: entry.purpose, expected: context.purpose)
        }
        let key = try slots.withLock { (slots) throws(EnvelopeError) in
            try Self.cachedKey(in: &slots, id: header.keyID, entry: entry)
        }
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
        guard let id = keystore.activeKeyID(for: purpose), let entry = keystore.entry(id: id) else {
            throw EnvelopeError.noActiveKey(purpose)
        }
        return try slots.withLock { (slots) throws(EnvelopeError) in
            guard let nonces = slots[id]?.nonces else { throw EnvelopeError.localEpochNotSet(id) }
            return (try Self.cachedKey(in: &slots, id: id, entry: entry), nonces)
        }
    }

    /// The cached ``EnvelopeKey`` for `entry`, made anew when the keystore's key bytes changed owner.
    private static func cachedKey(
        in slots: inout [KeyID: Slot], id: KeyID, entry: Keystore.Entry
    ) throws(EnvelopeError) -> EnvelopeKey {
        var slot = slots[id] ?? Slot()
        if let key = slot.key, key.secret === entry.key.secret, key.purpose == entry.purpose { return key }
        let key = try EnvelopeKey(entry.key, id: id, purpose: entry.purpose)
        slot.key = key
        slots[id] = slot
        return key
    }
}
