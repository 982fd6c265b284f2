import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Lease reads are bounded by the leader's monotonic clock (DESIGN §9): a leader paused past its lease
/// (SIGSTOP) while a new leader takes writes must not answer a stale read when it resumes.
@Suite(.serialized) struct LeaseReadProcessTests {
    typealias NodeProcess = NodeProcessTests.NodeProcess

    /// A blocking RESP client on one connection, with a receive timeout.
    final class RedisConnection {
        let fd: Int32

        init?(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_addr.s_addr = inet_addr("127.0.0.1")
            target.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if !connected {
                close(fd)
                return nil
            }
        }

        deinit { close(fd) }

        /// Sends one command and returns the raw reply, or `nil` on timeout. A bulk reply is read to its end
        /// (an INFO reply may arrive in several reads); any other reply is one line.
        func command(_ arguments: [String]) async -> String? {
            // The receive blocks up to its timeout: off the cooperative pool.
            await BlockingWork.run { blockingCommand(arguments) }
        }

        private func blockingCommand(_ arguments: [String]) -> String? {
            var request = "*\(arguments.count)\r\n"
            for argument in arguments { request += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
            let bytes = Array(request.utf8)
            guard send(fd, bytes, bytes.count, 0) == bytes.count else { return nil }
            var reply: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            for _ in 0..<1000 {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { return nil }
                reply += buffer[..<count]
                if Self.isComplete(reply) { return String(decoding: reply, as: UTF8.self) }
            }
            return nil
        }

        static func isComplete(_ reply: [UInt8]) -> Bool {
            guard let lineEnd = reply.firstRange(of: Array("\r\n".utf8)) else { return false }
            guard reply.first == UInt8(ascii: "$"),
                  let length = Int(String(decoding: reply[1..<lineEnd.lowerBound], as: UTF8.self)), length >= 0
            else { return true }
            return reply.count >= lineEnd.upperBound + length + 2
        }
    }

    static func role(redisPort: Int) async -> String? {
        guard let reply = await RedisConnection(port: redisPort)?.command(["INFO"]) else { return nil }
        return reply.split(separator: "\r\n").first { $0.hasPrefix("elastickv_raft_role:") }
            .map { String($0.dropFirst("elastickv_raft_role:".count)) }
    }

    static func waitForLeader(among ports: [Int], excluding: Int? = nil) async throws -> Int? {
        // Generous: under a full parallel suite on 2 cores, three starting processes can take a while to elect.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            for port in ports where port != excluding { if await role(redisPort: port) == "leader" { return port } }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func aLeaderPausedPastItsLeaseDoesNotServeAStaleReadWhenItResumes() async throws {
        try NodeProcessTests.requireBinary()
        let scratch = TemporaryDirectory("lease-pause")
        defer { scratch.remove() }
        let names = ["n1", "n2", "n3"]
        let grpc = try TestPorts.free(names.count)
        let redis = try TestPorts.free(names.count)
        let cluster = zip(names, grpc).map { "\($0)=127.0.0.1:\($1)" }.joined(separator: ",")
        var nodes: [Int: NodeProcess] = [:]
        defer {
            for node in nodes.values where node.process.isRunning {
                kill(node.process.processIdentifier, SIGCONT)
                kill(node.process.processIdentifier, SIGKILL)
            }
        }
        for (index, name) in names.enumerated() {
            nodes[redis[index]] = try NodeProcess(
                ["--node-id", name, "--data-dir", scratch.file(name), "--grpc-addr", "127.0.0.1:\(grpc[index])",
                 "--redis-addr", "127.0.0.1:\(redis[index])", "--metrics-addr", "", "--initial-cluster", cluster,
                 "--lease-reads"], scratch: scratch, name: name)
        }
        let oldLeader = try #require(try await Self.waitForLeader(among: redis),
                                     "no leader elected:\n\(nodes.values.map(\.output).joined(separator: "\n"))")
        let oldConnection = try #require(RedisConnection(port: oldLeader))
        #expect(await oldConnection.command(["SET", "k", "old"]) == "+OK\r\n")
        #expect(await oldConnection.command(["GET", "k"]) == "$3\r\nold\r\n", "a lease read on the leader")
        let paused = try #require(nodes[oldLeader])
        try await paused.pause()
        let newLeader = try #require(try await Self.waitForLeader(among: redis, excluding: oldLeader),
                                     "no new leader while the old one was paused")
        var written = false
        for _ in 0..<100 where !written {
            written = await RedisConnection(port: newLeader)?.command(["SET", "k", "new"]) == "+OK\r\n"
            if !written { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(written, "the new leader took no write")
        kill(paused.process.processIdentifier, SIGCONT)
        // The first request the resumed process sees: answered from its store it would be "old".
        let reply = await oldConnection.command(["GET", "k"]) ?? "(no reply)"
        #expect(reply != "$3\r\nold\r\n", "the resumed old leader served a stale read")
        #expect(reply == "$3\r\nnew\r\n" || reply.hasPrefix("-"), "unexpected reply \(reply)")
        for node in nodes.values { #expect(try await node.stop() == 0, "\(node.output)") }
    }

    /// DESIGN §9, "leader lost after append": a write the leader appended but could not commit before it
    /// lost its quorum is answered `AMBIGUOUS` (at step-down, not at the deadline), never `TRYAGAIN` or OK.
    @Test func aWriteWhoseLeaderLosesItsQuorumAfterAppendingIsAmbiguous() async throws {
        try NodeProcessTests.requireBinary()
        let scratch = TemporaryDirectory("ambiguous-step-down")
        defer { scratch.remove() }
        let names = ["n1", "n2", "n3"]
        let grpc = try TestPorts.free(names.count)
        let redis = try TestPorts.free(names.count)
        let cluster = zip(names, grpc).map { "\($0)=127.0.0.1:\($1)" }.joined(separator: ",")
        var nodes: [Int: NodeProcess] = [:]
        defer {
            for node in nodes.values where node.process.isRunning {
                kill(node.process.processIdentifier, SIGCONT)
                kill(node.process.processIdentifier, SIGKILL)
            }
        }
        for (index, name) in names.enumerated() {
            nodes[redis[index]] = try NodeProcess(
                ["--node-id", name, "--data-dir", scratch.file(name), "--grpc-addr", "127.0.0.1:\(grpc[index])",
                 "--redis-addr", "127.0.0.1:\(redis[index])", "--metrics-addr", "", "--initial-cluster", cluster],
                scratch: scratch, name: name)
        }
        let leader = try #require(try await Self.waitForLeader(among: redis))
        let connection = try #require(RedisConnection(port: leader))
        #expect(await connection.command(["SET", "k", "before"]) == "+OK\r\n")
        let followers = redis.filter { $0 != leader }.compactMap { nodes[$0] }
        for follower in followers { try await follower.pause() }
        let started = ContinuousClock.now
        let reply = await connection.command(["SET", "k", "during"]) ?? "(no reply)"
        let waited = ContinuousClock.now - started
        for follower in followers { kill(follower.process.processIdentifier, SIGCONT) }
        #expect(reply.hasPrefix("-AMBIGUOUS "), "a write appended without a quorum was answered \(reply)")
        #expect(waited < .seconds(5), "the answer came at the deadline (\(waited)), not at step-down")
        for node in nodes.values { #expect(try await node.stop() == 0, "\(node.output)") }
    }
}
