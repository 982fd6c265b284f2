import Foundation
import Testing
import TestSupport

/// Checks `deploy/` with `Python/deploy_config_test.py`: the alert rules pass `promtool check rules` and their
/// unit tests (`promtool test rules`), every dashboard query parses, and every metric and selector label the
/// dashboard and the alerts name is exported by a live node started from the built binaries.
///
/// `promtool` comes from the Debian package `prometheus`, which `scripts/test.sh` installs; no Prometheus
/// server is needed or contacted.
@Suite struct DeployConfigTests {
    static let staticTimeLimitSeconds = 120.0
    static let liveTimeLimitSeconds = 240.0

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/deploy_config_test.py")
    }

    static var promtoolInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/promtool")
        }
    }

    @Test func alertRulesAndDashboardQueriesPassPromtool() async throws {
        try #require(Self.promtoolInstalled,
                     "promtool not on PATH: install the Debian package prometheus (scripts/test.sh does)")
        let scratch = TemporaryDirectory("deploy-static")
        defer { scratch.remove() }
        let result = try await ScriptRun.python(
            Self.script, arguments: ["static", "--repo", Self.repository.path],
            timeLimit: .seconds(Self.staticTimeLimitSeconds), scratch: scratch)
        #expect(!result.timedOut,
                "deploy_config_test.py static exceeded \(Self.staticTimeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "deploy_config_test.py static failed:\n\(result.output)")
        #expect(result.output.contains("ok: every query names its metrics"), "\(result.output)")
    }

    @Test func everyMetricTheDashboardAndAlertsNameIsExportedByALiveNode() async throws {
        let binaries = ScriptRun.binaryDirectory
        try #require(ScriptRun.missingBinaries().isEmpty,
                     "\(ScriptRun.missingBinaries()) not built next to the tests in \(binaries.path)")
        let workdir = TemporaryDirectory("deploy-live")
        defer { workdir.remove() }
        let cluster = workdir.file("cluster")
        try FileManager.default.createDirectory(atPath: cluster, withIntermediateDirectories: true)
        let result = try await ScriptRun.python(
            Self.script,
            arguments: ["live", "--repo", Self.repository.path, "--bin", binaries.path, "--workdir", cluster],
            timeLimit: .seconds(Self.liveTimeLimitSeconds), scratch: workdir)
        #expect(!result.timedOut,
                "deploy_config_test.py live exceeded \(Self.liveTimeLimitSeconds) s:\n\(result.output)")
        #expect(result.status == 0, "deploy_config_test.py live failed:\n\(result.output)")
        #expect(result.output.contains("metrics the dashboard and the alerts name are exported"), "\(result.output)")
    }
}
