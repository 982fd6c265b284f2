import ArgumentParser

/// `elastickv-admin cluster …`: membership and status.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the cluster and change its membership.",
        subcommands: [
            ClusterStatusCommand.self, ClusterAddLearnerCommand.self, ClusterPromoteCommand.self,
            ClusterRemoveCommand.self, ClusterTransferLeaderCommand.self, ClusterSnapshotCommand.self,
        ]
    )
}
