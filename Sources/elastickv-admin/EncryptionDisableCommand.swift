import ArgumentParser

/// `elastickv-admin encryption disable`: always refused, without contacting any node.
///
/// It exists so an operator who looks for the switch finds the reason there is none and the way back to
/// cleartext (dump and reload) instead of an "unknown command" error.
struct EncryptionDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Refused: encryption cannot be switched off; explains dump and reload.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        throw AdminSession.report(.encryptionDisableRefused, json: output.json || AdminSession.leadingGlobals.json)
    }
}
