import GRPCCore

extension AdminFailure {
    /// Classifies an error from the `EncryptionAdmin` service, printing the server's message as it is.
    ///
    /// Encryption refusals already start with their condition (`FAILED_PRECONDITION: …`,
    /// `ErrCapabilityCheckFailed: …`), so the status name is added only when the message does not already start
    /// with it. Exit statuses are those of `init(_:)`: 3 with the leader's address, 4 for retryable statuses.
    public init(encryption error: RPCError) {
        let prefix = Self.statusName(error.code) + ": "
        guard error.message.hasPrefix(prefix) else {
            self.init(error)
            return
        }
        self.init(
            RPCError(code: error.code, message: String(error.message.dropFirst(prefix.count)), metadata: error.metadata)
        )
    }

    /// The refusal of `elastickv-admin encryption disable`, which sends nothing: the switch is one-way.
    public static let encryptionDisableRefused = AdminFailure(
        line: """
            error: encryption cannot be disabled in place: sealed values and log entries are never turned back \
            into cleartext, so no command switches it off.
            The only way back to cleartext is dump and reload: start a new cluster without --encryption-enabled, \
            list every key of this cluster with a Redis client (`redis-cli --scan`), read each value with TYPE \
            then GET (strings) or HGETALL (hashes) rather than DUMP, and PTTL for its expiry, write it into the new \
            cluster with SET or HSET (and PEXPIRE), then move clients over and retire this cluster.
            """,
        exitStatus: .failure, code: "REFUSED")
}
