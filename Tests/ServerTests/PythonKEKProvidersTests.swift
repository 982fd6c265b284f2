import Testing

/// Runs `Python/kek_providers_test.py` (redis-py, cryptography) against elastickv processes started from the
/// built binaries: a 3-node cluster with two KEKs, a member restarted with only the second, rewrap after removing
/// the first (and a second rewrap that commits nothing), the refused rewrap under a KEK no other member holds, the
/// ErrKEKMismatch refusal, and an unavailable command KEK (exit 75) next to a second KEK.
///
/// The script stops every process it starts; this test bounds it in time (``ScriptRun``).
@Suite struct PythonKEKProvidersTests {
    @Test func severalKEKsAcrossProcesses() async throws {
        try await PythonScriptTest.run("kek_providers_test.py", timeLimitSeconds: 420, success: ["ok: several KEKs"])
    }

    /// A 3-node cluster whose only KEK is one provider kind bootstraps, turns both envelopes on, rotates and is
    /// restarted whole; every value is read back through every member (`kek_provider_cluster_test.py`; the
    /// `kms-plugin:` run is in `KEKProviderClusterTests`, which hosts the plugin).
    @Test(arguments: ["exec", "pkcs11", "aws-kms"])
    func aClusterRunsWithOneProviderKindAsItsOnlyKEK(provider: String) async throws {
        try await PythonScriptTest.run("kek_provider_cluster_test.py", timeLimitSeconds: 300,
                                       arguments: ["--provider", provider], success: ["ok: \(provider) KEK cluster"])
    }
}
