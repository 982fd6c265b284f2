import ArgumentParser
import ControlPlane

/// `elastickv-admin encryption status`: the applied encryption state and every member's capability.
struct EncryptionStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the DEKs, the envelope phases and whether every member is encryption-capable.",
        discussion: """
            Reads the encryption state --addr has applied and its member list, then asks every member for its \
            capability; a member that does not answer is listed as unreachable.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        let report = try await session.encryptionStatusReport()
        print(session.json ? EncryptionStatusRendering.json(report) : EncryptionStatusRendering.table(report))
    }
}
