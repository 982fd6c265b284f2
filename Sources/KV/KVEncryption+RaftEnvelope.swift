import Encryption

extension KVEncryption {
    /// Whether a payload stays cleartext after the cut-over: writer registrations (0x03).
    ///
    /// A restarting node must get its new local epoch committed before it seals anything (DESIGN §3.6); its
    /// registration therefore cannot be sealed. It carries only key ids, a node id and an epoch — metadata of
    /// the same kind as Raft membership — and its opcode (0x03) can never be mistaken for an envelope's
    /// version byte (0x01).
    static func staysCleartext(_ payload: [UInt8]) -> Bool {
        payload.first == EncryptionEntry.Opcode.writerRegistration
    }

    /// Wrap-on-propose: the payload as it must go into the log now.
    ///
    /// Before the cut-over, and for writer registrations, that is the payload itself; after it, a raft
    /// envelope under the active raft DEK.
    /// - Throws: the keyring's ``EnvelopeError`` (no active raft key, local epoch not registered yet).
    public func wrapForProposal(_ payload: [UInt8]) throws(EnvelopeError) -> [UInt8] {
        guard raftCutover.cutoverIndex != nil, !payload.isEmpty, !Self.staysCleartext(payload) else { return payload }
        return try keyring.seal(payload, authenticating: .raft)
    }

    public func unwrapPayload(_ data: [UInt8], index: UInt64) throws(ApplyHalt) -> [UInt8] {
        guard let cutover = raftCutover.cutoverIndex, index > cutover, !data.isEmpty, !Self.staysCleartext(data)
        else { return data }
        do { return try keyring.open(data, authenticating: .raft) } catch {
            decryptFailures.record(error)
            switch error {
            case .truncated, .unknownVersion, .reservedFlagBits, .zeroKeyID:
                throw ApplyHalt(index: index, reason: .cleartextAfterCutover(cutover: cutover))
            default:
                throw ApplyHalt(index: index, reason: .raftEnvelopeUnreadable(error))
            }
        }
    }
}
