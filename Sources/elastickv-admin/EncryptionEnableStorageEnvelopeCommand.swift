import ArgumentParser

/// `elastickv-admin encryption enable-storage-envelope`: Phase 1.
struct EncryptionEnableStorageEnvelopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable-storage-envelope",
        abstract: "Seal every value written from now on (bootstraps first when no DEK is active).",
        discussion: "Refused with ErrCapabilityCheckFailed unless every member answers as encryption-capable.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.enableStorageEnvelope(.init(), options: options)
        }
    }
}
