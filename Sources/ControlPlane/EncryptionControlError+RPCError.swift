import GRPCCore

extension RPCError {
    /// Translates a refused encryption operation into the gRPC status a client can act on.
    ///
    /// The message is the error's description, so the CLI can print it as it is: it names the leader's address
    /// for `notLeader` and `ErrCapabilityCheckFailed` with the failing members. Every refusal whose precondition
    /// the operator must fix (`notLeader`, `encryptionNotEnabled`, `kekMissing`, `capabilityCheckFailed`,
    /// `refused`) is `FAILED_PRECONDITION`; a known leader's address also travels in the `elastickv-leader-addr`
    /// trailer. `retryable` and `unavailable` are `UNAVAILABLE`, `timeout` is `DEADLINE_EXCEEDED` (the change
    /// may still take effect).
    public init(_ error: EncryptionControlError) {
        switch error {
        case .notLeader(let address):
            var metadata: Metadata = [:]
            if let address { metadata.addString(address, forKey: Self.leaderAddressMetadataKey) }
            self.init(code: .failedPrecondition, message: error.description, metadata: metadata)
        case .encryptionNotEnabled, .kekMissing, .capabilityCheckFailed, .refused:
            self.init(code: .failedPrecondition, message: error.description)
        case .retryable, .unavailable:
            self.init(code: .unavailable, message: error.description)
        case .timeout:
            self.init(code: .deadlineExceeded, message: error.description)
        }
    }
}
