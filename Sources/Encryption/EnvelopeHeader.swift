/// The first 18 bytes of an envelope: version, flag, key id and nonce (DESIGN §3.2).
///
/// Parsing validates everything that can be checked without the key, in this order: length (header and tag
/// must fit), version, reserved flag bits for the purpose, key id.
public struct EnvelopeHeader: Hashable, Sendable {
    /// Bytes of the header.
    public static let byteCount = 18
    /// The only version this build reads and writes.
    public static let currentVersion: UInt8 = 0x01
    /// Storage flag bit 0: the plaintext was compressed before sealing.
    public static let compressedFlag: UInt8 = 0x01

    /// The flag byte: 0 or ``compressedFlag`` for storage, always 0 for raft.
    public let flags: UInt8
    /// The DEK the payload was sealed with; never 0.
    public let keyID: KeyID
    /// The AES-GCM nonce.
    public let nonce: Nonce

    /// Builds a header to seal with.
    ///
    /// - Precondition: `keyID != 0`.
    public init(keyID: KeyID, nonce: Nonce, isCompressed: Bool) {
        precondition(keyID != 0, "key id 0 never names a key")
        self.flags = isCompressed ? Self.compressedFlag : 0
        self.keyID = keyID
        self.nonce = nonce
    }

    /// Parses and validates the header of a whole envelope.
    ///
    /// - Parameters:
    ///   - envelope: the complete envelope (header, ciphertext and tag).
    ///   - purpose: which flag bits are allowed: storage allows bit 0, raft none.
    /// - Throws: ``EnvelopeError/truncated(byteCount:)``, ``EnvelopeError/unknownVersion(_:)``,
    ///   ``EnvelopeError/reservedFlagBits(flags:purpose:)`` or ``EnvelopeError/zeroKeyID``.
    public init(parsing envelope: UnsafeRawBufferPointer, purpose: KeyPurpose) throws(EnvelopeError) {
        guard envelope.count >= Envelope.overheadByteCount else {
            throw EnvelopeError.truncated(byteCount: envelope.count)
        }
        let version = envelope[0]
        guard version == Self.currentVersion else { throw EnvelopeError.unknownVersion(version) }
        let flags = envelope[1]
        let allowed: UInt8 = purpose == .storage ? Self.compressedFlag : 0
        guard flags & ~allowed == 0 else { throw EnvelopeError.reservedFlagBits(flags: flags, purpose: purpose) }
        let keyID = KeyID(bigEndian: envelope.loadUnaligned(fromByteOffset: 2, as: KeyID.self))
        guard keyID != 0 else { throw EnvelopeError.zeroKeyID }
        self.flags = flags
        self.keyID = keyID
        self.nonce = Nonce(bytes: UnsafeRawBufferPointer(rebasing: envelope[6..<Self.byteCount]))
    }

    /// Whether the storage plaintext was compressed before sealing.
    public var isCompressed: Bool { flags & Self.compressedFlag != 0 }

    /// Writes the 18 header bytes at the start of `buffer`.
    ///
    /// - Precondition: `buffer.count >= 18`.
    public func write(to buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.byteCount, "an envelope header needs 18 bytes of room")
        buffer[0] = Self.currentVersion
        buffer[1] = flags
        buffer.storeBytes(of: keyID.bigEndian, toByteOffset: 2, as: KeyID.self)
        nonce.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[6..<Self.byteCount]))
    }
}
