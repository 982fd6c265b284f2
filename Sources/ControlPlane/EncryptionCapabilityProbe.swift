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
        do {
            let target = try AdminAddress(parsing: address)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: target.host, port: target.port), transportSecurity: tls.clientSecurity,
                config: tls.clientConfig())
            let wire = try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                options.waitForReady = false
                return try await Elastickv_V1_EncryptionAdmin.Client(wrapping: client)
                    .getCapability(.init(), options: options)
            }
            return .capability(try EncryptionCapability(wire))
        } catch let error as EncryptionWireError {
            return .unreachable("invalid answer: \(error)")
        } catch let error as RPCError {
            return .unreachable("\(AdminFailure.statusName(error.code)): \(error.message)")
        } catch {
            return .unreachable(String(describing: error))
        }
    }

    /// What still needs each DEK on the member, or why there is no answer; never throws.
    public func keyUsage(at address: String, timeout: Duration) async -> Result<KeyUsageReport, MemberUnreachable> {
        do {
            let target = try AdminAddress(parsing: address)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: target.host, port: target.port), transportSecurity: tls.clientSecurity,
                config: tls.clientConfig())
            let wire = try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                options.waitForReady = false
                return try await Elastickv_V1_EncryptionAdmin.Client(wrapping: client)
                    .getKeyUsage(.init(), options: options)
            }
            return .success(try KeyUsageReport(wire))
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
