import Testing

/// Runs `Python/value_limit_test.py` (redis-py): one maximum value size agreed by every layer, through a
/// follower with both envelopes on; a value one byte over gets Redis's error and proposes nothing.
@Suite struct PythonValueLimitTests {
    @Test func theValueLimitHoldsEndToEndThroughAFollowerWithEncryption() async throws {
        try await PythonScriptTest.run("value_limit_test.py", timeLimitSeconds: 240, success: ["proposed nothing"])
    }
}
