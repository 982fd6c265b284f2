import ArgumentParser
import Server

/// `elastickv-admin encryption resync-sidecar`.
struct EncryptionResyncSidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync-sidecar",
        abstract: "Rewrite --addr's key sidecar from the encryption state it has applied, keeping local epochs.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.resyncSidecar(.init(), options: options)
        }
    }
}
