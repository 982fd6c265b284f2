import ArgumentParser
import ControlPlane
import ElastickvAPI

/// `elastickv-admin cluster status`: the node's view of the cluster.
struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show members, leader, term and commit/applied index.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        let json = session.json
        let text = try await session.withCluster { cluster, options in
            let status = try await cluster.status(Elastickv_V1_StatusRequest(), options: options)
            return json ? ClusterStatusRendering.json(status) : ClusterStatusRendering.table(status)
        }
        print(text)
    }
}
