import ArgumentParser

/// `elastickv-admin encryption bootstrap`.
struct EncryptionBootstrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Draw the first storage and raft DEKs and register every member.",
        discussion: "enable-storage-envelope bootstraps by itself when no DEK is active.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.bootstrapEncryption(.init(), options: options)
        }
    }
}
