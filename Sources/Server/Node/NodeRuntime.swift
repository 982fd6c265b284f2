import ControlPlane
import Logging
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
                                          configuration: limits.transportConfiguration, metrics: metrics, logger: logger)
        let (networking, onMessage) = NodeNetworking.make(node: node, transport: transport, logger: logger)
        // One connection per member at most: forwarding reaches the leader, pub/sub every member.
        let forwardingClient = RaftForwardingClient(maxConnections: 16, maxRequestPayloadBytes: limits.maxRequestPayloadBytes)
        let pubSubHub = PubSubHub()
        let raftService = RaftTransportService(localID: configuration.identity.fullNodeID,
                                               wireLimits: limits.wireLimits, metrics: transport.metrics,
                                               handler: node, pubSub: pubSubHub, logger: logger, onMessage: onMessage)
        grpc = GRPCServerService(
            host: configuration.grpcAddress.host, port: configuration.grpcAddress.port,
            services: [raftService, ClusterService(control: node), EncryptionAdminService(control: node),
                       KVService(storage: NodeKeyValueAccess(backend: backend, store: store))],
            maxRequestPayloadBytes: limits.maxRequestPayloadBytes)
        let forwarder = GRPCProposalForwarder(client: forwardingClient) { [node] id in await node.address(of: id) }
        self.forwarder = forwarder
        var services: [any Service] = [
            transport, forwardingClient, networking, NodeTicker(node: node, interval: options.tickInterval), grpc,
        ]
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
        services.append(ExpirySweeper(node: node, backend: backend, logger: logger))
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
        await node.attachCapabilityPoller(EncryptionCapabilityProbe())
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
