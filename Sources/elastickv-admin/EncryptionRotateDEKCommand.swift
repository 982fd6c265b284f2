import ArgumentParser
import ControlPlane
import ElastickvAPI

/// `elastickv-admin encryption rotate-dek --purpose storage|raft`.
struct EncryptionRotateDEKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-dek",
        abstract: "Make a new DEK active for one purpose; older DEKs stay readable.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "What the new DEK protects: storage or raft.")
    var purpose: String

    func validate() throws {
        do {
            _ = try EncryptionWire.purpose(purpose, field: "--purpose")
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        var request = Elastickv_V1_RotateDEKRequest()
        request.purpose = purpose
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.rotateDEK(request, options: options)
        }
    }
}
