import Testing

/// Runs `Python/redis_tls_test.py` (redis-py, redis-cli, openssl) against elastickv processes serving RESP over
/// TLS: client certificates enforced per `--redis-tls-auth-clients`, plaintext refused on the TLS port and with
/// `--redis-tls-only`, a renewed certificate served without a restart, bad TLS flags and files refused.
@Suite struct PythonRedisTLSTests {
    @Test func redisOverTLSWithClientCertificatesAndReload() async throws {
        try await PythonScriptTest.run("redis_tls_test.py", timeLimitSeconds: 180, binaries: ["elastickv"],
                                       success: ["ok: redis over TLS"])
    }
}
