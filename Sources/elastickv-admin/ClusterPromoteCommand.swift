import ArgumentParser

/// `elastickv-admin cluster promote`.
struct ClusterPromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote", abstract: "Turn a learner into a voter.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("node-id"), help: "The member's node id.")
    var nodeID: String

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).apply(.promote(nodeID: nodeID))
    }
}
