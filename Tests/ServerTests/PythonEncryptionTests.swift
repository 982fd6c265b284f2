import Testing

/// Runs `Python/encryption_test.py` (redis-py) against elastickv processes started from the built binaries:
/// a cleartext 3-node cluster switched through Phase 1 and Phase 2 under a continuous writer with the leader
/// SIGKILLed right after the cut-over, DEK rotations and a restart of every member, the start-up refusals and a
/// data dir restored from an older copy, `resync-sidecar` after compaction, and a learner added after the
/// cut-over; every file under every data dir is searched for the values written after the cut-over.
///
/// The script stops every process it starts; this test bounds it in time (``ScriptRun``).
@Suite struct PythonEncryptionTests {
    @Test func encryptionLifeCycleAcrossProcesses() async throws {
        try await PythonScriptTest.run("encryption_test.py", timeLimitSeconds: 420, success: ["ok: encryption life cycle"])
    }
}
