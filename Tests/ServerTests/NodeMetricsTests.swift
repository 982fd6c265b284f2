import Logging
import RESP
@testable import Server
import Testing
import TestSupport

/// The Prometheus series a node and its Redis listener publish.
@Suite struct NodeMetricsTests {
    @Test func aLeaderPublishesItsRoleTermAndIndexes() async throws {
        let dir = TemporaryDirectory("node-metrics")
        defer { dir.remove() }
        let metrics = MetricsRegistry()
        let node = try NodeStartup.open(ReplicatedNodeTests.configuration(dir), metrics: metrics,
                                        logger: Logger(label: "test"))
        await node.campaignIfSoleVoter()
        let backend = NodeRedisBackend(node: node, store: node.store) { "" }
        _ = try await ReplicatedNodeTests.set(backend, "k", "v")
        let text = metrics.render()
        let status = await node.raftStatus()
        #expect(metrics.sample("elastickv_raft_role") == 3, "\(text)")
        #expect(metrics.sample("elastickv_raft_is_leader") == 1)
        #expect(metrics.sample("elastickv_raft_term") == Double(status.term))
        #expect(metrics.sample("elastickv_raft_applied_index") == Double(status.appliedIndex))
        #expect(metrics.sample("elastickv_raft_leader", labels: ["id": "\(status.leader!)"]) == 1)
        #expect(text.contains("# HELP elastickv_raft_term Current Raft term\n# TYPE elastickv_raft_term gauge\n"))
        await node.close()
    }

    @Test func redisCommandsAreCountedPerCommandWithErrorsAndLatency() {
        let metrics = MetricsRegistry()
        let redis = RedisMetrics(registry: metrics)
        redis.record(command: Array("GET".utf8), reply: .null, duration: .milliseconds(1))
        redis.record(command: Array("get".utf8), reply: .error("ERR x"), duration: .milliseconds(2))
        redis.record(command: Array("NOSUCH".utf8), reply: .error("ERR unknown"), duration: .zero)
        let text = metrics.render()
        #expect(text.contains("elastickv_redis_commands_total{command=\"get\"} 2\n"), "\(text)")
        #expect(text.contains("elastickv_redis_command_errors_total{command=\"get\"} 1\n"))
        #expect(text.contains("elastickv_redis_commands_total{command=\"unknown\"} 1\n"))
        #expect(text.contains("elastickv_redis_command_duration_seconds_count{command=\"get\"} 2\n"))
    }
}
