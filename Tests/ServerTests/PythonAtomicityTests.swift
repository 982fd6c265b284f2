import Testing

/// Runs `Python/atomicity_test.py` (redis-py) against a 3-node cluster of elastickv processes: MULTI/EXEC and
/// scripts written through every member stay all-or-nothing across a SIGKILL of the leader and the members end
/// identical; two EXECs racing on one watched key through two members never both apply.
@Suite struct PythonAtomicityTests {
    @Test func transactionsAndScriptsAreAllOrNothingAcrossALeaderCrash() async throws {
        try await PythonScriptTest.run("atomicity_test.py", timeLimitSeconds: 240, success: ["ok: 20 WATCH races"])
    }
}
