import ElastickvAPI
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// Asks one node for its encryption capability over `EncryptionAdmin.GetCapability`, on a fresh connection.
///
/// Used by `elastickv-admin encryption status` and, through `CapabilityPolling`, by the leader before a
/// cut-over. Every poll connects anew so a stale connection never stands in for a fresh answer; it does not
/// wait for a connection to become ready, so a member that refuses connections fails at once rather than at the
/// timeout. An answer that fails the wire checks (a local epoch above 0xFFFF) counts as no answer.
public struct EncryptionCapabilityProbe: Sendable {
    /// mTLS when the cluster serves gRPC over it.
    let tls: GRPCTLS?

    public init(tls: GRPCTLS? = nil) {
        self.tls = tls
    }

    /// The member's capability, or why there is none; never throws.
    ///
    /// - Parameters:
    ///   - address: the member's gRPC address, `host:port`.
    ///   - timeout: how long the call may take, connecting included.
    public func answer(at address: String, timeout: Duration) async -> EncryptionStatusReport.Node.Answer {
        switch await call(at: address, timeout: timeout, { client, options in
            try EncryptionCapability(try await client.getCapability(.init(), options: options))
        }) {
        case .success(let capability): return .capability(capability)
        case .failure(let failure): return .unreachable(failure.reason)
        }
    }

    /// What still needs each DEK on the member, or why there is no answer; never throws.
    public func keyUsage(at address: String, timeout: Duration) async -> Result<KeyUsageReport, MemberUnreachable> {
        await call(at: address, timeout: timeout) { client, options in
            try KeyUsageReport(try await client.getKeyUsage(.init(), options: options))
        }
    }

    /// Runs one call on a fresh connection to `address`; every failure becomes the reason it did not answer.
    private func call<Value: Sendable>(
        at address: String, timeout: Duration,
        _ body: (Elastickv_V1_EncryptionAdmin.Client<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Value
    ) async -> Result<Value, MemberUnreachable> {
        do {
            let target = try AdminAddress(parsing: address)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: target.host, port: target.port), transportSecurity: tls.clientSecurity,
                config: tls.clientConfig())
            return .success(try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                options.waitForReady = false
                return try await body(Elastickv_V1_EncryptionAdmin.Client(wrapping: client), options)
            })
        } catch let error as EncryptionWireError {
            return .failure(MemberUnreachable("invalid answer: \(error)"))
        } catch let error as RPCError {
            return .failure(MemberUnreachable("\(AdminFailure.statusName(error.code)): \(error.message)"))
        } catch {
            return .failure(MemberUnreachable(String(describing: error)))
        }
    }

    /// The member's capability, or `nil` when it did not answer validly within `timeout`.
    public func capability(at address: String, timeout: Duration) async -> EncryptionCapability? {
        await answer(at: address, timeout: timeout).capability
    }
}
