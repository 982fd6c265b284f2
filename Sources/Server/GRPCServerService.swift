import GRPCCore
import GRPCNIOTransportHTTP2Posix
import ServiceLifecycle

/// Runs a gRPC server as a lifecycle service: serves until graceful shutdown, then drains in-flight RPCs.
public struct GRPCServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let address: String

    /// Creates the server for `services`, listening on `host:port` (port 0 picks an ephemeral one) and
    /// accepting requests up to `maxRequestPayloadBytes`.
    /// `security` is mTLS when the node has `--tls-*` files (``GRPCTLS/serverSecurity``).
    public init(host: String, port: Int, services: [any RegistrableRPCService],
                maxRequestPayloadBytes: Int = RaftTransportConfiguration.defaultMaxRequestPayloadBytes,
                security: HTTP2ServerTransport.Posix.TransportSecurity = .plaintext) {
        address = "\(host):\(port)"
        server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: host, port: port), transportSecurity: security,
                config: .defaults {
                    $0.rpc.maxRequestPayloadSize = maxRequestPayloadBytes
                    $0.http2.targetWindowSize = RaftTransportConfiguration.http2WindowBytes
                    $0.http2.maxFrameSize = RaftTransportConfiguration.http2MaxFrameBytes
                }),
            services: services)
    }

    /// The bound port, once listening.
    public func listeningPort() async throws -> Int? {
        try await server.transport.listeningAddress.ipv4?.port
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            do { try await server.serve() } catch {
                // A failure before the listener bound is the address's fault; later ones are the server's.
                guard (try? await listeningPort()) == nil else { throw error }
                throw ListenerBindError(flag: "--grpc-addr", address: address, underlying: error)
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
