import Testing

/// Runs `Python/grpc_tls_test.py` against a 3-node cluster whose gRPC (Raft, forwarding, admin) is mutual TLS:
/// encryption cut-over through the admin certificate, forwarded writes, the admin role enforced, a plaintext
/// admin refused, a leader SIGKILL survived, a node with another CA's certificate kept out, and every node's
/// certificate rotated with SIGHUP while the cluster serves.
@Suite struct PythonGRPCTLSTests {
    @Test func aClusterOverMutualTLSWithTheAdminRole() async throws {
        try await PythonScriptTest.run("grpc_tls_test.py", timeLimitSeconds: 240, success: ["ok: mTLS cluster"])
    }
}
