import ArgumentParser

/// `elastickv-admin encryption enable-raft-envelope`: Phase 2.
struct EncryptionEnableRaftEnvelopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable-raft-envelope",
        abstract: "Seal every Raft log entry proposed from now on; this cannot be undone.",
        discussion: """
            The leader holds user writes briefly while the cut-over entry commits. Refused with \
            ErrCapabilityCheckFailed unless every member answers as encryption-capable.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.enableRaftEnvelope(.init(), options: options)
        }
    }
}
