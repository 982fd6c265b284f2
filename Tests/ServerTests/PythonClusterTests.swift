import Testing

/// Runs `Python/cluster_test.py` (redis-py, installed by `.ci/run`) against a 3-node cluster started from
/// the built `elastickv` binaries: every supported command through the leader and a follower, pipelining,
/// TTLs, AUTH, server commands (WAIT, SAVE, INFO, MONITOR), a SIGKILL of the leader during writes with every
/// acknowledged write read back, and catch-up through a snapshot. The script stops every process it starts;
/// this test bounds it in time.
@Suite struct PythonClusterTests {
    @Test func redisPyAgainstAThreeNodeClusterWithALeaderCrash() async throws {
        try await PythonScriptTest.run("cluster_test.py", timeLimitSeconds: 300, success: ["ok: commands through"])
    }
}
