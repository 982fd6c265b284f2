import ArgumentParser

/// `elastickv-admin cluster remove`.
struct ClusterRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a voter or a learner.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("node-id"), help: "The member's node id.")
    var nodeID: String

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).apply(.remove(nodeID: nodeID))
    }
}
