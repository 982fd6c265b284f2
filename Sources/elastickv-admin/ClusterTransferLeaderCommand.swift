import ArgumentParser

/// `elastickv-admin cluster transfer-leader`.
struct ClusterTransferLeaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer-leader", abstract: "Hand leadership to a voter and wait until it leads.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("node-id"), help: "The member's node id.")
    var nodeID: String

    func run() async throws {
        try await AdminSession(address: connection.addr, output: output).apply(.transferLeader(nodeID: nodeID))
    }
}
