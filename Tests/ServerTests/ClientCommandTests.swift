import NIOCore
@testable import Server
import Testing

/// CLIENT INFO, LIST and KILL over the listener's connections.
@Suite(.timeLimit(.minutes(1))) struct ClientCommandTests {
    typealias B = BlockingCommandTests

    /// Reads one bulk-string reply (CLIENT INFO / LIST) from `client` after sending `request`.
    static func bulk(_ client: TestConnection, _ request: String) async throws -> String {
        var received = try await client.exchange(request, expecting: "$0\r\n\r\n")
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, let header = received.split(separator: "\r\n").first,
              let length = Int(header.dropFirst()), received.utf8.count < header.utf8.count + 2 + length + 2 {
            guard var chunk = try await client.iterator.next() else { break }
            received += chunk.readString(length: chunk.readableBytes) ?? ""
        }
        return received
    }

    @Test func listInfoAndKillSeeEveryConnection() async throws {
        try await B.withListener { server, port in
            let other = try await RedisDrainTests.connect(port)
            try await other.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: B.command("CLIENT", "SETNAME", "other")))
                var iterator = inbound.makeAsyncIterator()
                _ = try await iterator.next()
                try await B.withClient(port) { (client) async throws in
                    _ = try await client.exchange(B.command("SELECT", "3"), expecting: "+OK\r\n")
                    let info = try await Self.bulk(client, B.command("CLIENT", "INFO"))
                    #expect(info.contains(" db=3 ") && info.contains(" cmd=client|info ") && info.contains(" resp=2"),
                            "\(info)")
                    let list = try await Self.bulk(client, B.command("CLIENT", "LIST"))
                    let payload = list.split(separator: "\r\n", maxSplits: 1).last ?? ""
                    let lines = payload.split(separator: "\n").filter { $0.hasPrefix("id=") }
                    #expect(lines.count == 2, "\(list)")
                    let otherLine = try #require(lines.first { $0.contains(" name=other ") })
                    let otherID = try #require(otherLine.split(separator: " ").first?.dropFirst(3))
                    #expect(otherLine.contains(" cmd=client|setname "), "\(otherLine)")
                    let killed = try await client.exchange(B.command("CLIENT", "KILL", "ID", String(otherID)),
                                                           expecting: ":1\r\n")
                    #expect(killed == ":1\r\n", "\(killed.debugDescription) after \(list.debugDescription)")
                }
                // The killed connection is closed by the server (the other one closed on its own).
                try await RedisDrainTests.waitUntil { server.connections.openCount == 0 }
            }
        }
    }
}
