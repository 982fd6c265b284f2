import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

/// Runs admin gRPC services on 127.0.0.1 with an ephemeral port for one test, then stops them.
enum AdminTestServer {
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    /// The longest any single step (binding, one RPC, shutdown) may take before the test fails.
    static let stepLimit: Duration = .seconds(20)

    /// Call options that bound every RPC a test makes.
    static var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = stepLimit
        return options
    }

    struct TimeLimitExceeded: Error, CustomStringConvertible {
        var what: String
        var description: String { "\(what) did not finish within \(AdminTestServer.stepLimit)" }
    }

    /// Starts a server with `services`, runs `body` with a connected client and the bound port, then shuts
    /// the client and server down gracefully.
    static func run<Result: Sendable>(
        _ services: [any RegistrableRPCService],
        _ body: (Client, Int) async throws -> Result
    ) async throws -> Result {
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: services)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            let address = try await withTimeLimit("binding the test server") {
                try await server.transport.listeningAddress
            }
            let port = try #require(address.ipv4?.port)
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            let result = try await withGRPCClient(transport: transport) { client in
                try await body(client, port)
            }
            server.beginGracefulShutdown()
            group.addTask {
                try await Task.sleep(for: stepLimit)
                throw TimeLimitExceeded(what: "stopping the test server")
            }
            try await group.next()
            group.cancelAll()
            return result
        }
    }

    /// Runs `operation`, failing with `TimeLimitExceeded` when it takes longer than `stepLimit`.
    static func withTimeLimit<Value: Sendable>(
        _ what: String, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: stepLimit)
                return nil
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() ?? nil else { throw TimeLimitExceeded(what: what) }
            return value
        }
    }
}
