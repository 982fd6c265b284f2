import Foundation
import Testing
import TestSupport

/// A 3-node cluster of elastickv processes whose only KEK is the in-suite Kubernetes KMS v2 plugin: the plugin
/// is served here, and `ServerTests/Python/kek_provider_cluster_test.py --provider kms-plugin` runs the cluster
/// against its socket (bootstrap, both envelopes, a rotation, a full restart, every value read back).
@Suite struct KEKProviderClusterTests {
    @Test func aClusterRunsWithAKMSPluginAsItsOnlyKEK() async throws {
        let missing = ScriptRun.missingBinaries()
        try #require(missing.isEmpty, "\(missing) not built next to the tests in \(ScriptRun.binaryDirectory.path)")
        let server = try KMSPluginTestServer()
        try await server.start()
        let directory = TemporaryDirectory("kek-provider-cluster")
        defer { directory.remove() }
        let workdir = directory.file("work")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ServerTests/Python/kek_provider_cluster_test.py")
        let result: ScriptRun.Result
        do {
            result = try await ScriptRun.python(
                script, arguments: ["--bin", ScriptRun.binaryDirectory.path, "--workdir", workdir, "--provider",
                                    "kms-plugin", "--kms-plugin-socket", server.socketPath],
                timeLimit: .seconds(300), scratch: directory)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
        #expect(!result.timedOut, "the script exceeded 300 s:\n\(result.output)")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok: kms-plugin KEK cluster"), "\(result.output)")
    }
}
