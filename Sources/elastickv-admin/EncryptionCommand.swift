import ArgumentParser

/// `elastickv-admin encryption …`: the encryption life cycle (DESIGN §4).
struct EncryptionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encryption",
        abstract: "Show and advance the cluster's encryption at rest.",
        discussion: """
            Mutators run on the leader of nodes started with --encryption-enabled and a KEK; a follower refuses \
            and names the leader's address (exit status 3).
            """,
        subcommands: [
            EncryptionStatusCommand.self, EncryptionBootstrapCommand.self, EncryptionRotateDEKCommand.self,
            EncryptionRewrapDEKsCommand.self, EncryptionRetireDEKCommand.self,
            EncryptionEnableStorageEnvelopeCommand.self, EncryptionEnableRaftEnvelopeCommand.self,
            EncryptionResyncSidecarCommand.self, EncryptionPolicyCommand.self, EncryptionRewriteCommand.self,
            EncryptionRewriteStatusCommand.self, EncryptionKeyUsageCommand.self, EncryptionDisableCommand.self,
        ]
    )
}
