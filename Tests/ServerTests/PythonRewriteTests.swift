import Testing

/// Runs `Python/rewrite_test.py` against elastickv processes started from the built binaries: cleartext and
/// sealed data under two rotations of each DEK, `encryption rewrite --wait` under load with the leader
/// SIGKILLed in the middle, a byte search of every data dir for the values written, `key-usage`,
/// `cluster snapshot` and the retirement of every old DEK.
///
/// The script stops every process it starts; this test bounds it in time (``ScriptRun``).
@Suite struct PythonRewriteTests {
    @Test func rotateRewriteSnapshotRetireAcrossProcesses() async throws {
        try await PythonScriptTest.run("rewrite_test.py", timeLimitSeconds: 420,
                                       success: ["ok: rotate, rewrite under load with a leader kill, snapshot and retire"])
    }
}
