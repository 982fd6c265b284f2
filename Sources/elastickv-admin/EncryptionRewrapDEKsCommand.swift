import ArgumentParser

/// `elastickv-admin encryption rewrap-deks`.
struct EncryptionRewrapDEKsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap-deks",
        abstract: "Re-wrap every unretired DEK under the leader's current KEK (after a KEK rotation).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.rewrapDEKs(.init(), options: options)
        }
    }
}
