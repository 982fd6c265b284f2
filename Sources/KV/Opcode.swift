/// The first byte of every (unwrapped) FSM payload in the Raft log (DESIGN §3.7, normative).
public enum Opcode: UInt8, Sendable, Hashable, CaseIterable {
    /// One user command.
    case command = 0x00
    /// Several user commands applied in order in one entry.
    case batch = 0x01
    /// Clock / lease entry (reserved; not produced by this version).
    case clock = 0x02
    /// Writer registration for the nonce invariant.
    case writerRegistration = 0x03
    /// Encryption bootstrap: the first two DEKs.
    case encryptionBootstrap = 0x04
    /// Key life-cycle entry with a sub-tag (rotate, rewrap, retire, enable envelopes).
    case keyManagement = 0x05
    /// A MULTI/EXEC transaction: watches and commands applied atomically (``TransactionEntry``).
    case transaction = 0x06
}
