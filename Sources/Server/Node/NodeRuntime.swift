import ControlPlane
import Foundation
import Logging
import NIOCertificateReloading
import NIOCore
import ServiceLifecycle
import Storage
import Synchronization
import UnixSignals

/// A started node and the services around it: ticker, Redis listener, metrics listener.
///
/// `run()` serves until SIGTERM or SIGINT, then shuts every service down gracefully.
public final class NodeRuntime: Sendable {
    public let configuration: NodeConfiguration
    public let node: ReplicatedNode
    public let metrics: MetricsRegistry
    let services: [any Service]
    let forwarder: GRPCProposalForwarder
    let grpc: GRPCServerService
    /// mTLS for gRPC, when `--tls-*` files are given.
    let tls: GRPCTLS?
    /// The Redis and metrics listeners' addresses once bound, for the start-up line.
    let bound = BoundListeners()
    let logger: Logger

    /// Opens the node and prepares its services.
    ///
    /// - Parameter onRedisBound: reports the Redis listener's address (tests use port 0).
    public init(configuration: NodeConfiguration, options: ReplicatedNode.Options = .init(), logger: Logger,
                onRedisBound: @escaping @Sendable (SocketAddress) -> Void = { _ in },
                onMetricsBound: @escaping @Sendable (SocketAddress) -> Void = { _ in },
                onRedisTLSBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) throws(StartupFailure)
    {
        // The TLS files are checked before the data directory is touched: a bad certificate changes nothing.
        let redisTLS: TLSContextSource?
        do throws(TLSSetupError) { redisTLS = try configuration.redisTLS.map(TLSContextSource.init) } catch {
            throw .tls(error.description)
        }
        let grpcTLS = try Self.grpcTLS(configuration, logger: logger)
        tls = grpcTLS
        self.configuration = configuration
        self.logger = logger
        metrics = MetricsRegistry()
        metrics.gauge("elastickv_build_info", help: "Always 1; the labels name the build",
                      labels: ["version": BuildInfo.version, "commit": BuildInfo.commit]).set(to: 1)
        node = try NodeStartup.open(configuration, options: options, metrics: metrics, logger: logger)
        let store = node.store
        let name = configuration.nodeName
        let info = node.info
        let backend = NodeRedisBackend(node: node, store: store, leaseReads: configuration.leaseReads,
                                       metrics: metrics) {
            info.render(nodeName: name)
        }
        let limits = configuration.sizeLimits
        let transport = GRPCRaftTransport(localID: configuration.identity.fullNodeID,
                                          configuration: limits.transportConfiguration, metrics: metrics, logger: logger,
                                          tls: grpcTLS)
        let (networking, onMessage) = NodeNetworking.make(node: node, transport: transport, logger: logger)
        // One connection per member at most: forwarding reaches the leader, pub/sub every member.
        let forwardingClient = RaftForwardingClient(maxConnections: 16, maxRequestPayloadBytes: limits.maxRequestPayloadBytes,
                                                    tls: grpcTLS)
        let pubSubHub = PubSubHub()
        let raftService = RaftTransportService(localID: configuration.identity.fullNodeID,
                                               wireLimits: limits.wireLimits, metrics: transport.metrics,
                                               handler: node, pubSub: pubSubHub, logger: logger, onMessage: onMessage)
        grpc = GRPCServerService(
            host: configuration.grpcAddress.host, port: configuration.grpcAddress.port,
            services: [raftService, ClusterService(control: node, requiresAdminRole: grpcTLS != nil),
                       EncryptionAdminService(control: node, requiresAdminRole: grpcTLS != nil),
                       KVService(storage: NodeKeyValueAccess(backend: backend, store: store))],
            maxRequestPayloadBytes: limits.maxRequestPayloadBytes, security: grpcTLS?.serverSecurity ?? .plaintext)
        let forwarder = GRPCProposalForwarder(client: forwardingClient) { [node] id in await node.address(of: id) }
        self.forwarder = forwarder
        var services: [any Service] = [
            transport, forwardingClient, networking, NodeTicker(node: node, interval: options.tickInterval), grpc,
        ]
        if let reloader = grpcTLS?.reloader { services.append(reloader) }
        if grpcTLS != nil || redisTLS != nil {
            services.append(CertificateReloadOnSignal(grpc: grpcTLS?.reloader, redis: redisTLS, logger: logger))
        }
        var redisConfiguration = RedisServer.Configuration(
            host: configuration.redisAddress.host, port: configuration.redisAddress.port,
            password: configuration.redisPassword, maxValueBytes: configuration.maxValueBytes,
            onBound: { [bound] address in
                bound.addresses.withLock { $0.redis = address }
                onRedisBound(address)
            })
        redisConfiguration.tls = redisTLS
        redisConfiguration.plaintext = !configuration.redisTLSOnly
        redisConfiguration.onTLSBound = { [bound] address in
            bound.addresses.withLock { $0.redisTLS = address }
            onRedisTLSBound(address)
        }
        let redis = RedisServer(
            configuration: redisConfiguration,
            backend: backend, metrics: metrics, logger: logger, pubSubHub: pubSubHub,
            pubSubPeers: GRPCPubSubPeers(client: forwardingClient, logger: logger) { [node] in await node.peerAddresses() })
        services.append(redis)
        if let provider = node.kekProvider {
            services.append(KEKHealthProbe(provider: provider, interval: configuration.kekProbeInterval, logger: logger))
        }
        services.append(ExpirySweeper(node: node, backend: backend, logger: logger))
        if configuration.encryptionEnabled {
            services.append(AutomaticRotation(node: node, metrics: metrics, logger: logger))
            services.append(RewriteDriver(node: node))
        }
        if let address = configuration.metricsAddress {
            services.append(MetricsServer(host: address.host, port: address.port, registry: metrics, logger: logger,
                                          readiness: { NodeReadiness(info.reading) },
                                          onBound: { [bound] address in
                                              bound.addresses.withLock { $0.metrics = address }
                                              onMetricsBound(address)
                                          }))
        }
        // Last, so that it is the first to stop: Redis drains and a leader hands off before anything else
        // shuts down.
        services.append(ShutdownSequence(node: node, redis: redis, logger: logger))
        self.services = services
    }

    /// Serves until a termination signal, then shuts down gracefully and closes the store.
    public func run() async throws {
        try await run(signals: [.sigterm, .sigint])
    }

    /// Serves until the surrounding task is cancelled (in-process tests run several nodes this way).
    public func runWithoutSignals() async throws {
        try await run(signals: [])
    }

    func run(signals: [UnixSignal]) async throws {
        let group = ServiceGroup(services: services, gracefulShutdownSignals: signals,
                                 cancellationSignals: [], logger: logger)
        let announcement = Task { await announceOnceBound() }
        defer { announcement.cancel() }
        await node.attachForwarder(forwarder)
        await node.attachCapabilityPoller(EncryptionCapabilityProbe(tls: tls))
        do {
            try await group.run()
        } catch {
            await node.close()
            throw error
        }
        await node.close()
    }

    /// The longest start-up waits for its listeners before it stops waiting to announce itself.
    static let bindWait: Duration = .seconds(30)

    /// Logs "node started" with every bound address once every listener is bound; a listener that fails to
    /// bind ends the service group first, and this line never appears.
    func announceOnceBound() async {
        let grpcPort = try? await grpc.listeningPort()
        let deadline = ContinuousClock.now + Self.bindWait
        while !Task.isCancelled && ContinuousClock.now < deadline {
            let (redis, redisTLS, metricsAddress) = bound.addresses.withLock { ($0.redis, $0.redisTLS, $0.metrics) }
            if redis != nil || configuration.redisTLSOnly, redisTLS != nil || configuration.redisTLSAddress == nil,
               grpcPort != nil, metricsAddress != nil || configuration.metricsAddress == nil {
                logger.info("node started", metadata: [
                    "node": "\(configuration.nodeName)", "version": "\(BuildInfo.version)",
                    "grpc": "\(configuration.grpcAddress.host):\(grpcPort ?? 0)",
                    "redis": "\(redis.map { "\($0)" } ?? "disabled (--redis-tls-only)")",
                    "redis_tls": "\(redisTLS.map { "\($0)" } ?? "disabled")",
                    "metrics": "\(metricsAddress.map { "\($0)" } ?? "disabled")",
                    "data_dir": "\(configuration.dataDirectory)",
                ])
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The Redis and metrics listeners' addresses once bound.
final class BoundListeners: Sendable {
    let addresses = Mutex<(redis: SocketAddress?, redisTLS: SocketAddress?, metrics: SocketAddress?)>((nil, nil, nil))
}

extension NodeRuntime {
    /// gRPC's mTLS from the `--tls-*` files, with the certificate and key re-read every 2 s when they change;
    /// nil without them. A file that cannot be used stops the start-up (nothing is opened yet).
    static func grpcTLS(_ configuration: NodeConfiguration, logger: Logger) throws(StartupFailure) -> GRPCTLS? {
        guard let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile,
              let ca = configuration.tlsCAFile else { return nil }
        guard FileManager.default.isReadableFile(atPath: ca) else {
            throw .tls("--tls-ca-file: cannot use '\(ca)': the file does not exist or is not readable")
        }
        do {
            let reloader = try TimedCertificateReloader.makeReloaderValidatingSources(
                refreshInterval: .seconds(2),
                certificateSource: .init(location: .file(path: certificate), format: .pem),
                privateKeySource: .init(location: .file(path: key), format: .pem), logger: logger)
            return GRPCTLS(certificateFile: certificate, keyFile: key, caFile: ca, reloader: reloader)
        } catch {
            throw .tls("--tls-cert-file / --tls-key-file: cannot use '\(certificate)' with '\(key)': \(error)")
        }
    }
}

/// SIGHUP re-reads every certificate and key at once (gRPC's and the Redis TLS port's), besides the periodic
/// check for changed files.
struct CertificateReloadOnSignal: Service {
    let grpc: TimedCertificateReloader?
    let redis: TLSContextSource?
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try grpc?.reload()
                if grpc != nil { logger.info("gRPC TLS certificate reloaded") }
            } catch {
                logger.warning("gRPC TLS files could not be reloaded; the previous certificate stays in use",
                               metadata: ["error": "\(error)"])
            }
            redis?.reload(force: true, logger: logger)
        }
    }
}
