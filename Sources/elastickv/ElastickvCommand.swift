import ArgumentParser
import ControlPlane
import Foundation
import Logging
import Server
import ServiceLifecycle
import Storage

/// `elastickv`: runs one node. With no flags it starts a working single-node database on loopback.
@main
struct ElastickvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elastickv",
        abstract: "A replicated key-value database whose persisted state is encrypted with a key held outside it.",
        discussion: """
            Exit status (DESIGN §6): 0 after a clean shutdown, 64 on a usage error (unknown flag, malformed \
            value), 74 on an I/O error under --data-dir or on a listener, 75 when waiting may help (--data-dir \
            locked by a live process, no KEK provider answers), 78 on a configuration or start-up refusal \
            (an address that cannot be bound, every ErrXxx refusal), 1 otherwise.
            """,
        version: BuildInfo.versionLine)

    @Option(name: .customLong("node-id"), help: "This node's name; its Raft id is FNV-1a-64 of it.")
    var nodeID = "n1"
    @Option(name: .customLong("data-dir"), help: "Where the Raft log, the store and the sidecar live.")
    var dataDirectory = "./elastickv-data"
    @Option(name: .customLong("grpc-addr"), help: "Raft traffic and admin services (host:port).")
    var grpcAddress = "127.0.0.1:50051"
    @Option(name: .customLong("redis-addr"), help: "Redis protocol listener (host:port).")
    var redisAddress = "127.0.0.1:6379"
    @Option(name: .customLong("metrics-addr"), help: "Prometheus listener (host:port); empty disables it.")
    var metricsAddress = "127.0.0.1:9090"
    @Option(name: .customLong("initial-cluster"),
            help: "Founding members: n1=host:port,n2=host:port,… (with --join: existing members to answer)")
    var initialCluster = ""
    @Flag(name: .customLong("join"), help: "Start empty and wait to be added with `cluster add-learner`.")
    var join = false
    @Flag(name: .customLong("encryption-enabled"), help: "Enable encryption at rest (needs a KEK).")
    var encryptionEnabled = false
    @Option(name: .customLong("kek-file"), help: "32-byte key-encryption key file, mode 0600.")
    var kekFile: String?
    @Option(name: .customLong("kek"), help: ArgumentHelp(
        "A KEK provider URI (repeatable; the first is primary, every one wraps every DEK): file:PATH, env:NAME, "
            + "aws-kms:KEY?region=R&endpoint=URL, pkcs11:token=T;object=O?module-path=P&pin-source=file:F, "
            + "kms-plugin:unix:///SOCKET, exec:PATH (docs/encryption.md).", valueName: "uri"))
    var kekURIs: [String] = []
    @Option(name: .customLong("kek-probe-interval"),
            help: "Seconds between health probes of KEK providers that call a service or a command.")
    var kekProbeSeconds: Double = 15
    @Option(name: .customLong("previous-kek-file"),
            help: "During a KEK change: the KEK the keys were wrapped with before --kek-file (until rewrap-deks).")
    var previousKEKFile: String?
    @Option(name: .customLong("redis-password"), help: "Require AUTH with this password.")
    var redisPassword: String?
    @Option(name: .customLong("max-value-bytes"), help: "Largest value a write may carry.")
    var maxValueBytes = 64 << 20
    @Option(name: .customLong("snapshot-every-entries"), help: "Snapshot and compact the log after this many entries.")
    var snapshotEveryEntries: UInt64 = 100_000
    @Option(name: .customLong("compression"),
            help: "zstd or none: compress values before sealing them (with the storage envelope on).")
    var compression = "zstd"
    @Flag(name: .customLong("lease-reads"),
          help: "Serve Redis reads on the leader under its check-quorum lease instead of a ReadIndex round.")
    var leaseReads = false
    @Option(name: .customLong("tls-cert-file"), help: "PEM certificate (chain) of this node, for --redis-tls-addr.")
    var tlsCertificateFile: String?
    @Option(name: .customLong("tls-key-file"), help: "PEM private key of --tls-cert-file.")
    var tlsKeyFile: String?
    @Option(name: .customLong("tls-ca-file"), help: "PEM CA certificates that client certificates must chain to.")
    var tlsCAFile: String?
    @Option(name: .customLong("redis-tls-addr"), help: "Redis protocol over TLS (host:port).")
    var redisTLSAddress: String?
    @Option(name: .customLong("redis-tls-auth-clients"),
            help: "yes: clients must present a certificate of --tls-ca-file; optional: checked when presented; no.")
    var redisTLSAuthClients = "yes"
    @Flag(name: .customLong("redis-tls-only"), help: "Serve Redis over TLS only (no plaintext --redis-addr).")
    var redisTLSOnly = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"
    @Option(name: .customLong("log-format"), help: "json or text.")
    var logFormat = "text"

    /// Parses the command line (accepting `--flag=` with an empty value, e.g. `--metrics-addr=` to disable
    /// metrics, which ArgumentParser alone refuses) and runs.
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst().flatMap { argument -> [String] in
            argument.hasPrefix("--") && argument.hasSuffix("=") ? [String(argument.dropLast()), ""] : [argument]
        }
        do {
            var command = try parseAsRoot(Array(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func makeConfiguration() throws(ConfigurationError) -> NodeConfiguration {
        let grpc = try NodeConfiguration.Address(parsing: grpcAddress, flag: "--grpc-addr")
        let redis = try NodeConfiguration.Address(parsing: redisAddress, flag: "--redis-addr")
        let metrics = metricsAddress.isEmpty
            ? nil : try NodeConfiguration.Address(parsing: metricsAddress, flag: "--metrics-addr")
        let peers = try NodeConfiguration.parseInitialCluster(initialCluster, nodeName: nodeID, grpcAddress: grpc,
                                                              joining: join)
        let configuration = NodeConfiguration(
            nodeName: nodeID, dataDirectory: dataDirectory, grpcAddress: grpc, redisAddress: redis,
            metricsAddress: metrics, initialCluster: peers, join: join, encryptionEnabled: encryptionEnabled,
            kekFile: kekFile, redisPassword: redisPassword.map { Array($0.utf8) }, maxValueBytes: maxValueBytes,
            leaseReads: leaseReads)
        var result = configuration
        result.previousKEKFile = previousKEKFile
        result.kekURIs = kekURIs
        guard kekProbeSeconds >= 0.1, kekProbeSeconds <= 86_400 else {
            throw .kekProbeInterval(kekProbeSeconds)
        }
        result.kekProbeInterval = .milliseconds(Int64(kekProbeSeconds * 1000))
        result.tlsCertificateFile = tlsCertificateFile
        result.tlsKeyFile = tlsKeyFile
        result.tlsCAFile = tlsCAFile
        result.redisTLSAddress = try redisTLSAddress.map { (text) throws(ConfigurationError) in
            try NodeConfiguration.Address(parsing: text, flag: "--redis-tls-addr")
        }
        guard let authClients = RedisTLSSettings.ClientAuthentication(rawValue: redisTLSAuthClients.lowercased()) else {
            throw .tls("--redis-tls-auth-clients must be yes, no or optional")
        }
        result.redisTLSAuthClients = authClients
        result.redisTLSOnly = redisTLSOnly
        guard let compression = ValueCompression(rawValue: compression.lowercased()) else {
            throw .invalidCompression(compression)
        }
        result.compression = compression
        try result.validate()
        return result
    }

    func run() async throws {
        // Everything the node creates under --data-dir is for its owner only, whatever the caller's umask.
        umask(0o077)
        guard let level = Logger.Level(rawValue: logLevel), ["json", "text"].contains(logFormat) else {
            Self.fail("--log-level must be trace…critical and --log-format json or text", status: .usage)
        }
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let configuration: NodeConfiguration
        do { configuration = try makeConfiguration() } catch { Self.fail(error.description, status: .usage) }
        let logger = Logger(label: "elastickv")
        let runtime: NodeRuntime
        var options = ReplicatedNode.Options()
        options.snapshotEveryEntries = max(snapshotEveryEntries, 1)
        options.entriesKeptAfterSnapshot = min(options.entriesKeptAfterSnapshot, options.snapshotEveryEntries / 2)
        do { runtime = try NodeRuntime(configuration: configuration, options: options, logger: logger) } catch {
            logger.critical("\(error.description)")
            Self.fail(error.description, status: error.exitStatus)
        }
        runtime.metrics.bootstrapSwiftMetrics()
        do { try await runtime.run() } catch let error as ListenerBindError {
            logger.critical("\(error.description)")
            Self.fail(error.description, status: error.exitStatus)
        } catch {
            Self.fail("stopped: \(error)", status: .failure)
        }
        logger.info("shutdown complete", metadata: ["node": "\(configuration.nodeName)"])
    }

    /// Prints one line to standard error and exits with `status`.
    static func fail(_ message: String, status: ExitStatus) -> Never {
        FileHandle.standardError.write(Data("elastickv: \(message)\n".utf8))
        Foundation.exit(status.rawValue)
    }
}
