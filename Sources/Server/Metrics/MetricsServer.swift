import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `GET /metrics` in the Prometheus text format, `GET /healthz` (200 while the process runs) and
/// `GET /readyz` (200 while the node is ready, 503 with a JSON reason otherwise), and 404 for anything else.
public final class MetricsServer: Service, Sendable {
    let host: String
    let port: Int
    let registry: MetricsRegistry
    /// Refreshes gauges (Raft role, term, indexes …) just before each scrape.
    let refresh: @Sendable () -> Void
    let onBound: @Sendable (SocketAddress) -> Void
    /// Judges readiness for `/readyz`.
    let readiness: @Sendable () -> NodeReadiness
    let logger: Logger

    public init(host: String, port: Int, registry: MetricsRegistry, logger: Logger,
                refresh: @escaping @Sendable () -> Void = {},
                readiness: @escaping @Sendable () -> NodeReadiness,
                onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.readiness = readiness
        self.host = host
        self.port = port
        self.registry = registry
        self.refresh = refresh
        self.onBound = onBound
        self.logger = logger
    }

    public func run() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
                            .closingOnDeinit(channel)
                    }
                }
        } catch {
            throw ListenerBindError(flag: "--metrics-addr", address: "\(host):\(port)", underlying: error)
        }
        if let address = server.channel.localAddress { onBound(address) }
        logger.info("metrics listener started", metadata: ["address": "\(host):\(port)"])
        try await runUntilGracefulShutdown {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await self.serve(connection) }
                    }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var path: String?
            for try await part in inbound {
                switch part {
                case .head(let head): path = head.method == .GET ? head.uri : nil
                case .body: break
                case .end:
                    let (status, contentType, body) = answer(path: path)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(body.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    /// The status, content type and body for a GET of `path` (`nil` for other methods).
    func answer(path: String?) -> (HTTPResponseStatus, String, String) {
        let route = path.map { $0.split(separator: "?", maxSplits: 1).first.map(String.init) ?? $0 }
        switch route {
        case "/metrics":
            refresh()
            return (.ok, "text/plain; version=0.0.4", registry.render())
        case "/healthz":
            return (.ok, "text/plain", "ok\n")
        case "/readyz":
            let judged = readiness()
            return (judged.isReady ? .ok : .serviceUnavailable, "application/json", judged.json)
        default:
            return (.notFound, "text/plain", "not found\n")
        }
    }
}
