import ArgumentParser
import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// One command's connection to a node: where to connect, how long to wait, how to print.
///
/// Every failure leaves through here as one line on stderr and an `ExitCode` (see `AdminFailure`), so the
/// commands only describe the happy path.
struct AdminSession {
    static let defaultAddress = "127.0.0.1:50051"
    static let defaultTimeoutSeconds = 30

    /// The global options given before the subcommand, set by `ElastickvAdmin.main()`.
    @TaskLocal static var leadingGlobals = AdminGlobalArguments()

    typealias ClusterClient = Elastickv_V1_Cluster.Client<HTTP2ClientTransport.Posix>

    private(set) var address: AdminAddress
    let json: Bool
    let timeout: Duration
    /// mTLS to the node, when the three `--tls-…-file` options are given.
    let tls: GRPCTLS?

    /// Resolves the options: those after the command name win over the leading globals, then the defaults.
    init(address: String?, output: OutputOptions) throws {
        let globals = Self.leadingGlobals
        do {
            self.address = try AdminAddress(parsing: address ?? globals.address ?? Self.defaultAddress)
        } catch {
            throw ValidationError(error.description)
        }
        json = output.json || globals.json
        timeout = .seconds(output.timeout ?? globals.timeoutSeconds ?? Self.defaultTimeoutSeconds)
        let files = [output.tlsCertificateFile ?? globals.tlsCertificateFile, output.tlsKeyFile ?? globals.tlsKeyFile,
                     output.tlsCAFile ?? globals.tlsCAFile]
        switch files.compactMap({ $0 }).count {
        case 0: tls = nil
        case 3: tls = GRPCTLS(certificateFile: files[0]!, keyFile: files[1]!, caFile: files[2]!)
        default:
            throw ValidationError("--tls-cert-file, --tls-key-file and --tls-ca-file go together (mTLS to the node)")
        }
    }

    /// The same session aimed at another node.
    ///
    /// - Throws: `ValidationError` when `address` is not host:port.
    func on(_ address: String) throws -> AdminSession {
        var copy = self
        do { copy.address = try AdminAddress(parsing: address) } catch { throw ValidationError(error.description) }
        return copy
    }

    /// Connects, runs `body` with a Cluster client and per-call options, and disconnects.
    ///
    /// - Throws: `ExitCode` after printing the failure line.
    func withCluster<Result: Sendable>(
        _ body: (ClusterClient, CallOptions) async throws -> Result
    ) async throws -> Result {
        try await withClient { client, options in try await body(ClusterClient(wrapping: client), options) }
    }

    /// Connects to `--addr`, runs `body` with the client and per-call options (the session's timeout), and
    /// disconnects.
    ///
    /// - Parameters:
    ///   - classify: how a gRPC error becomes the printed failure.
    ///   - reporting: `false` rethrows the error as it is, printing nothing (the caller tries elsewhere).
    /// - Throws: `ExitCode` after printing the failure line.
    func withClient<Result: Sendable>(
        classify: (RPCError) -> AdminFailure = { AdminFailure($0) }, reporting: Bool = true,
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Result
    ) async throws -> Result {
        guard reporting else { return try await connected(body) }
        do {
            return try await connected(body)
        } catch let error as RPCError {
            throw Self.report(AdminFailure.connecting(to: "\(address)", defaultAddress: Self.defaultAddress,
                                                      error: error, classify: classify), json: json)
        } catch {
            throw Self.report(AdminFailure(line: "error: \(address): \(error)", exitStatus: .failure), json: json)
        }
    }

    private func connected<Result: Sendable>(
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: address.host, port: address.port), transportSecurity: tls.clientSecurity,
            config: tls.clientConfig())
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            options.timeout = timeout
            return try await body(client, options)
        }
    }

    /// Sends one membership change and prints its result.
    func apply(_ change: ClusterChange) async throws {
        let request = change.request
        let response = try await withCluster { cluster, options in
            switch change {
            case .addLearner: return try await cluster.addLearner(request, options: options)
            case .promote: return try await cluster.promote(request, options: options)
            case .remove: return try await cluster.remove(request, options: options)
            case .transferLeader: return try await cluster.transferLeader(request, options: options)
            }
        }
        print(json ? change.json(response) : change.summary(response))
    }

    /// Prints `failure` on stderr (as one JSON object with `json`) and returns the exit code to leave with.
    static func report(_ failure: AdminFailure, json: Bool) -> ExitCode {
        FileHandle.standardError.write(Data(((json ? failure.json : failure.line) + "\n").utf8))
        return ExitCode(failure.exitStatus.rawValue)
    }
}
