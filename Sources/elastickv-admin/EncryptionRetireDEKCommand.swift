import ArgumentParser
import ElastickvAPI

/// `elastickv-admin encryption retire-dek --key-id N`.
struct EncryptionRetireDEKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire-dek",
        abstract: "Delete an inactive DEK that no stored value, cursor, log entry or snapshot still needs.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("key-id"), help: "The DEK's id, as `encryption status` lists it.")
    var keyID: UInt32

    func validate() throws {
        guard keyID != 0 else { throw ValidationError("--key-id must name a key; 0 is never a key id") }
    }

    func run() async throws {
        var request = Elastickv_V1_RetireDEKRequest()
        request.keyID = keyID
        try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
            try await client.retireDEK(request, options: options)
        }
    }
}
