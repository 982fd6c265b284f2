import Testing

/// Runs `Python/rotation_policy_test.py` against elastickv processes started from the built binaries: a 3-node
/// cluster with both envelopes on rotates its DEKs on its own by seal count, by age and when a restarted
/// member's local epoch reaches 0xFF00, as `encryption policy set` asks.
///
/// The script stops every process it starts; this test bounds it in time (``ScriptRun``).
@Suite struct PythonRotationPolicyTests {
    @Test func automaticRotationAcrossProcesses() async throws {
        try await PythonScriptTest.run("rotation_policy_test.py", timeLimitSeconds: 300,
                                       success: ["ok: automatic rotation by seal count, age and local epoch"])
    }
}
