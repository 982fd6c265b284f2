/// Why an envelope could not be sealed or opened.
///
/// Descriptions name key ids, sizes and flag values, never key bytes, nonces' secrets (there are none) or
/// values.
public enum EnvelopeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input is shorter than the 34 bytes of header and tag; the associated value is its length.
    case truncated(byteCount: Int)
    /// The version byte is not 0x01.
    case unknownVersion(UInt8)
    /// The flag byte sets bits this purpose reserves (storage: bits 1–7; raft: any bit).
    case reservedFlagBits(flags: UInt8, purpose: KeyPurpose)
    /// The key id field is 0, which never names a key.
    case zeroKeyID
    /// No key with this id is available to open the envelope.
    case unknownKeyID(KeyID)
    /// The key exists but serves another purpose than the envelope being sealed or opened.
    case purposeMismatch(keyID: KeyID, keyPurpose: KeyPurpose, expected: KeyPurpose)
    /// The tag does not verify: the envelope was altered, moved to another user key or version, or sealed
    /// with other key bytes under this id.
    case integrityFailure(keyID: KeyID)
    /// No key is active for the purpose, so nothing can be sealed yet.
    case noActiveKey(KeyPurpose)
    /// The node has not set its local epoch for the key, so it may not seal under it.
    case localEpochNotSet(KeyID)
    /// A local epoch lower than the one in use was set; that could reuse nonces.
    case localEpochRegression(keyID: KeyID, current: UInt16, requested: UInt16)
    /// Every counter of this nonce prefix was used.
    case nonceCounterExhausted(node16: UInt16, localEpoch: UInt16)
    /// The plaintext is larger than one envelope can carry.
    case plaintextTooLarge(byteCount: Int, maximum: Int)
    /// The caller's output buffer cannot hold the result.
    case outputTooSmall(required: Int, available: Int)
    /// libcrypto failed (usually out of memory); the associated value names the function.
    case libcryptoFailure(function: String)

    public var description: String {
        switch self {
        case .truncated(let count):
            return "envelope truncated: \(count) bytes, at least 34 (18 header + 16 tag) required"
        case .unknownVersion(let version):
            return "envelope version \(hex(version)) is not supported (expected 0x01); the value was written by "
                + "a newer build or is corrupt"
        case .reservedFlagBits(let flags, let purpose):
            return "envelope flag byte \(hex(flags)) sets bits reserved for \(purpose.rawValue) envelopes"
        case .zeroKeyID:
            return "envelope names key id 0, which is reserved; the value is corrupt"
        case .unknownKeyID(let id):
            return "key id \(id) is not in the keystore; resync the sidecar if the key should exist"
        case .purposeMismatch(let id, let keyPurpose, let expected):
            return "key id \(id) is a \(keyPurpose.rawValue) key, but a \(expected.rawValue) envelope was expected"
        case .integrityFailure(let id):
            return "envelope under key id \(id) failed authentication: it was altered, moved to another key "
                + "or version, or the key bytes differ"
        case .noActiveKey(let purpose):
            return "no \(purpose.rawValue) key is active; bootstrap encryption or activate a key first"
        case .localEpochNotSet(let id):
            return "local epoch for key id \(id) is not set on this node; it may not seal until start-up "
                + "registered its epoch"
        case .localEpochRegression(let id, let current, let requested):
            return
                "local epoch for key id \(id) may not go back from \(current) to \(requested) (ErrLocalEpochRollback)"
        case .nonceCounterExhausted(let node16, let epoch):
            return "nonce counter exhausted for node16 \(node16) at local epoch \(epoch); restart the node or "
                + "rotate the DEK"
        case .plaintextTooLarge(let count, let maximum):
            return "value of \(count) bytes exceeds the envelope limit of \(maximum) bytes"
        case .outputTooSmall(let required, let available):
            return "output buffer holds \(available) bytes, \(required) required"
        case .libcryptoFailure(let function):
            return "libcrypto call \(function) failed; the process may be out of memory"
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
