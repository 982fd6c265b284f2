import ArgumentParser
import ControlPlane

/// `elastickv-admin cluster add-learner`: the node to ask is the global `--addr` given before `cluster`.
struct ClusterAddLearnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-learner",
        abstract: "Add a learner: it receives the log but does not vote.",
        discussion: "Here --addr is the new member's address; give the node to ask before the subcommand.")

    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("node-id"), help: "The new member's node id.")
    var nodeID: String

    @Option(name: .long, help: "The new member's gRPC address (host:port).")
    var addr: String

    func validate() throws {
        do {
            _ = try AdminAddress(parsing: addr)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        try await AdminSession(address: nil, output: output).apply(.addLearner(nodeID: nodeID, address: addr))
    }
}
