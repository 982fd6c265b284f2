/// A DEK whose local epoch is close to 0xFFFF, reported at start-up so the operator rotates it in time.
public struct LocalEpochWarning: Sendable, Hashable, CustomStringConvertible {
    /// From this epoch on, start-up warns.
    public static let threshold: UInt16 = 0xFF00

    /// The DEK concerned.
    public let keyID: KeyID
    /// Its purpose: the one to pass to `rotate-dek --purpose`.
    public let purpose: KeyPurpose
    /// The epoch this start moved the key to.
    public let localEpoch: UInt16

    public init(keyID: KeyID, purpose: KeyPurpose, localEpoch: UInt16) {
        self.keyID = keyID
        self.purpose = purpose
        self.localEpoch = localEpoch
    }

    public var description: String {
        "local_epoch of DEK \(keyID) is \(localEpoch) of 65535; run elastickv-admin encryption rotate-dek --purpose "
            + "\(purpose.rawValue) soon: at 65535 the node refuses to start (ErrLocalEpochExhausted)"
    }
}
