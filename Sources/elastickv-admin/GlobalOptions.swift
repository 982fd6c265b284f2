import ArgumentParser

/// Output and connection-security options every command also accepts after its name.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Seconds to wait for the node's answer.")
    var timeout: Int?

    @Option(name: .customLong("tls-cert-file"),
            help: "Client certificate (PEM) for a cluster serving gRPC over mTLS; changes need OU=admin in it.")
    var tlsCertificateFile: String?

    @Option(name: .customLong("tls-key-file"), help: "Private key (PEM) of --tls-cert-file.")
    var tlsKeyFile: String?

    @Option(name: .customLong("tls-ca-file"), help: "The cluster's CA (PEM): the nodes' certificates must chain to it.")
    var tlsCAFile: String?

    func validate() throws {
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be at least 1 second") }
    }
}

/// The node to ask, accepted after the command name by every command except `add-learner`.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The node to ask: its --grpc-addr (host:port).",
        discussion: "Default 127.0.0.1:50051, elastickv's default --grpc-addr. Any member answers status; "
            + "changes must go to the leader (a follower refuses them, naming it)."))
    var addr: String?
}
