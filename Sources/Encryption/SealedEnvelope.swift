/// An envelope as one combined byte array whose header was validated.
///
/// Like swift-crypto's `AES.GCM.SealedBox`: the combined representation is what gets stored or sent, and the
/// validating initializer is the only way to turn untrusted bytes into a value that
/// ``Envelope/open(_:using:authenticating:)`` accepts. Validation covers the header only; authenticity is
/// checked when opening.
public struct SealedEnvelope: Hashable, Sendable {
    /// `header ‖ ciphertext ‖ tag`.
    public let combined: [UInt8]
    /// The DEK the payload was sealed with.
    public let keyID: KeyID
    /// The nonce the payload was sealed with.
    public let nonce: Nonce
    /// Storage flag bit 0.
    public let isCompressed: Bool

    /// Validates the header of stored or received bytes.
    ///
    /// - Parameters:
    ///   - combined: the complete envelope.
    ///   - purpose: the purpose the envelope must be valid for (raft allows no flag bits).
    /// - Throws: the header errors of ``EnvelopeHeader/init(parsing:purpose:)``.
    public init(combined: [UInt8], purpose: KeyPurpose) throws(EnvelopeError) {
        let header = try combined.withBytes { (bytes) throws(EnvelopeError) in
            try EnvelopeHeader(parsing: bytes, purpose: purpose)
        }
        self.init(validated: combined, keyID: header.keyID, nonce: header.nonce, isCompressed: header.isCompressed)
    }

    init(validated combined: [UInt8], keyID: KeyID, nonce: Nonce, isCompressed: Bool) {
        self.combined = combined
        self.keyID = keyID
        self.nonce = nonce
        self.isCompressed = isCompressed
    }

    /// The encrypted payload.
    public var ciphertext: ArraySlice<UInt8> {
        combined[EnvelopeHeader.byteCount..<(combined.count - AESGCMCipher.tagByteCount)]
    }

    /// The authentication tag.
    public var tag: ArraySlice<UInt8> { combined[(combined.count - AESGCMCipher.tagByteCount)...] }
}
