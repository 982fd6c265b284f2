import Testing

/// Runs `Python/tls_capture_test.py`: a loopback packet capture while canaries are written through a follower
/// finds every canary without TLS and none with TLS on Redis and gRPC (skipped where tcpdump may not capture).
@Suite struct PythonTLSCaptureTests {
    @Test func noCanaryCrossesLoopbackInTheClearWithTLSOn() async throws {
        try await PythonScriptTest.run("tls_capture_test.py", timeLimitSeconds: 240, binaries: ["elastickv"],
                                       success: ["ok: capture on lo", "skip:"])
    }
}
