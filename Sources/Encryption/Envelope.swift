/// Seals and opens envelopes: `version ‖ flag ‖ key_id ‖ nonce ‖ AES-256-GCM ciphertext ‖ tag` (DESIGN §3.2).
///
/// The functions take the key (``EnvelopeKey``), the nonce and the context the envelope is bound to. The
/// buffer-based variants neither allocate nor copy the payload, so the storage layer can seal straight into the
/// record it writes and open straight from the row it read; the array-based variants are for everything else.
/// ``SealingKeyring`` picks keys and nonces for a node.
public enum Envelope {
    /// Header and tag bytes added to every plaintext.
    public static let overheadByteCount = EnvelopeHeader.byteCount + AESGCMCipher.tagByteCount
    /// The largest plaintext one envelope carries.
    public static let maximumPlaintextByteCount = AESGCMCipher.maximumMessageByteCount - overheadByteCount

    /// The size of the envelope for a plaintext of `plaintextByteCount` bytes.
    public static func sealedByteCount(plaintextByteCount: Int) -> Int {
        plaintextByteCount + overheadByteCount
    }

    /// Seals `plaintext` into the first `sealedByteCount(plaintextByteCount:)` bytes of `output`.
    ///
    /// - Parameters:
    ///   - plaintext: the value or payload; must not overlap `output`.
    ///   - key: a key of `context.purpose`.
    ///   - nonce: a nonce never used before with this key (see ``NonceFactory``).
    ///   - context: what the envelope is bound to.
    ///   - isCompressed: sets storage flag bit 0. Raft envelopes are never compressed (precondition).
    ///   - output: where the envelope goes.
    /// - Returns: the number of bytes written.
    /// - Throws: ``EnvelopeError/purposeMismatch(keyID:keyPurpose:expected:)``,
    ///   ``EnvelopeError/plaintextTooLarge(byteCount:maximum:)``,
    ///   ``EnvelopeError/outputTooSmall(required:available:)`` or ``EnvelopeError/libcryptoFailure(function:)``.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer,
        using key: EnvelopeKey,
        nonce: Nonce,
        authenticating context: EnvelopeContext,
        isCompressed: Bool = false,
        into output: UnsafeMutableRawBufferPointer
    ) throws(EnvelopeError) -> Int {
        precondition(!isCompressed || context.purpose == .storage, "raft envelopes are never compressed")
        try checkPurpose(of: key, for: context)
        guard plaintext.count <= maximumPlaintextByteCount else {
            throw EnvelopeError.plaintextTooLarge(byteCount: plaintext.count, maximum: maximumPlaintextByteCount)
        }
        let total = sealedByteCount(plaintextByteCount: plaintext.count)
        guard output.count >= total else {
            throw EnvelopeError.outputTooSmall(required: total, available: output.count)
        }
        let header = UnsafeMutableRawBufferPointer(rebasing: output[0..<EnvelopeHeader.byteCount])
        EnvelopeHeader(keyID: key.id, nonce: nonce, isCompressed: isCompressed).write(to: header)
        let tagStart = EnvelopeHeader.byteCount + plaintext.count
        try withAdditionalData(header: UnsafeRawBufferPointer(header), context: context) { aad throws(EnvelopeError) in
            do throws(AESGCMError) {
                try key.cipher.seal(
                    plaintext,
                    nonce: UnsafeRawBufferPointer(rebasing: header[6..<EnvelopeHeader.byteCount]),
                    authenticating: aad,
                    ciphertext: UnsafeMutableRawBufferPointer(rebasing: output[EnvelopeHeader.byteCount..<tagStart]),
                    tag: UnsafeMutableRawBufferPointer(rebasing: output[tagStart..<total]))
            } catch {
                SecretBytes.zero(UnsafeMutableRawBufferPointer(rebasing: output[0..<total]))
                throw envelopeError(error, keyID: key.id)
            }
        }
        return total
    }

    /// Authenticates and decrypts `envelope` into the first bytes of `output`.
    ///
    /// - Parameters:
    ///   - envelope: the complete envelope; must not overlap `output`.
    ///   - key: the key the envelope names.
    ///   - context: what the envelope must be bound to.
    ///   - output: room for at least `envelope.count - overheadByteCount` bytes.
    /// - Returns: the number of plaintext bytes written. Whether the plaintext is compressed is in the header
    ///   (``EnvelopeHeader/isCompressed``).
    /// - Throws: any header error of ``EnvelopeHeader/init(parsing:purpose:)``;
    ///   ``EnvelopeError/unknownKeyID(_:)`` when the envelope names another key;
    ///   ``EnvelopeError/purposeMismatch(keyID:keyPurpose:expected:)``;
    ///   ``EnvelopeError/outputTooSmall(required:available:)``; ``EnvelopeError/integrityFailure(keyID:)``.
    ///   On error nothing of the plaintext is left in `output`.
    public static func open(
        _ envelope: UnsafeRawBufferPointer,
        using key: EnvelopeKey,
        authenticating context: EnvelopeContext,
        into output: UnsafeMutableRawBufferPointer
    ) throws(EnvelopeError) -> Int {
        let header = try EnvelopeHeader(parsing: envelope, purpose: context.purpose)
        guard header.keyID == key.id else { throw EnvelopeError.unknownKeyID(header.keyID) }
        try checkPurpose(of: key, for: context)
        let count = envelope.count - overheadByteCount
        guard output.count >= count else {
            throw EnvelopeError.outputTooSmall(required: count, available: output.count)
        }
        let tagStart = EnvelopeHeader.byteCount + count
        let headerBytes = UnsafeRawBufferPointer(rebasing: envelope[0..<EnvelopeHeader.byteCount])
        try withAdditionalData(header: headerBytes, context: context) { aad throws(EnvelopeError) in
            do throws(AESGCMError) {
                try key.cipher.open(
                    UnsafeRawBufferPointer(rebasing: envelope[EnvelopeHeader.byteCount..<tagStart]),
                    tag: UnsafeRawBufferPointer(rebasing: envelope[tagStart..<envelope.count]),
                    nonce: UnsafeRawBufferPointer(rebasing: headerBytes[6..<EnvelopeHeader.byteCount]),
                    authenticating: aad,
                    into: UnsafeMutableRawBufferPointer(rebasing: output[0..<count]))
            } catch {
                throw envelopeError(error, keyID: key.id)
            }
        }
        return count
    }

    /// Seals `plaintext` into a new ``SealedEnvelope``.
    ///
    /// - Throws: as ``seal(_:using:nonce:authenticating:isCompressed:into:)``.
    public static func seal(
        _ plaintext: [UInt8],
        using key: EnvelopeKey,
        nonce: Nonce,
        authenticating context: EnvelopeContext,
        isCompressed: Bool = false
    ) throws(EnvelopeError) -> SealedEnvelope {
        let combined = try makeBytes(count: sealedByteCount(plaintextByteCount: plaintext.count)) {
            (output) throws(EnvelopeError) in
            try plaintext.withBytes { (input) throws(EnvelopeError) in
                try seal(
                    input, using: key, nonce: nonce, authenticating: context, isCompressed: isCompressed,
                    into: output)
            }
        }
        return SealedEnvelope(validated: combined, keyID: key.id, nonce: nonce, isCompressed: isCompressed)
    }

    /// Authenticates and decrypts a sealed envelope.
    ///
    /// - Throws: as ``open(_:using:authenticating:into:)``.
    public static func open(
        _ sealed: SealedEnvelope, using key: EnvelopeKey, authenticating context: EnvelopeContext
    ) throws(EnvelopeError) -> [UInt8] {
        try sealed.combined.withBytes { (envelope) throws(EnvelopeError) in
            try makeBytes(count: max(envelope.count - overheadByteCount, 0)) { (output) throws(EnvelopeError) in
                try open(envelope, using: key, authenticating: context, into: output)
            }
        }
    }

    static func checkPurpose(of key: EnvelopeKey, for context: EnvelopeContext) throws(EnvelopeError) {
        guard key.purpose == context.purpose else {
            throw EnvelopeError.purposeMismatch(keyID: key.id, keyPurpose: key.purpose, expected: context.purpose)
        }
    }

    /// Runs `body` with the additional data of `context` for `header`, built in temporary storage.
    static func withAdditionalData<Result>(
        header: UnsafeRawBufferPointer,
        context: EnvelopeContext,
        _ body: (UnsafeRawBufferPointer) throws(EnvelopeError) -> Result
    ) throws(EnvelopeError) -> Result {
        var outcome: Swift.Result<Result, EnvelopeError>?
        withUnsafeTemporaryAllocation(byteCount: context.additionalDataByteCount, alignment: 8) { buffer in
            context.writeAdditionalData(header: header, to: buffer)
            do throws(EnvelopeError) {
                outcome = .success(try body(UnsafeRawBufferPointer(buffer)))
            } catch {
                outcome = .failure(error)
            }
        }
        return try outcome!.get()
    }

    /// Makes an array of at most `count` bytes filled by `body`, which returns how many it wrote.
    static func makeBytes(
        count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(EnvelopeError) -> Int
    ) throws(EnvelopeError) -> [UInt8] {
        var failure: EnvelopeError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            do throws(EnvelopeError) {
                initializedCount = try body(UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initializedCount = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    private static func envelopeError(_ error: AESGCMError, keyID: KeyID) -> EnvelopeError {
        switch error {
        case .authenticationFailure: return EnvelopeError.integrityFailure(keyID: keyID)
        case .libcryptoFailure(let function): return EnvelopeError.libcryptoFailure(function: function)
        }
    }
}
