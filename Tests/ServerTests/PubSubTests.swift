import NIOCore
import RESP
import RedisCommands
@testable import Server
import Synchronization
import Testing
import TestSupport

/// Pub/sub on one member: confirmations as Redis words them, delivery to channel, pattern and shard
/// subscribers, PUBSUB's counts, the subscribed mode of RESP2 connections, and the output limit that closes
/// a subscriber that does not read.
@Suite(.timeLimit(.minutes(1))) struct PubSubTests {
    typealias B = BlockingCommandTests

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func confirmationsCountEverySubscription() {
        var subscriptions = Subscriptions()
        let first = subscriptions.apply(.subscribe(.channel, [Self.bytes("a"), Self.bytes("b"), Self.bytes("a")]))
        #expect(first.reply.encoded(.resp2) == Self.bytes(
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
                + "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"))
        #expect(first.added == [Self.bytes("a"), Self.bytes("b")])
        let pattern = subscriptions.apply(.subscribe(.pattern, [Self.bytes("n*")]))
        #expect(pattern.reply.encoded(.resp3) == Self.bytes(">3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"))
        let all = subscriptions.apply(.unsubscribe(.channel, []))
        #expect(all.reply.encoded(.resp2) == Self.bytes(
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"))
        #expect(subscriptions.apply(.unsubscribe(.channel, [])).reply.encoded(.resp2)
                == Self.bytes("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n"), "nothing to unsubscribe: a null name")
        #expect(subscriptions.apply(.unsubscribe(.pattern, [Self.bytes("x")])).reply.encoded(.resp2)
                == Self.bytes("*3\r\n$12\r\npunsubscribe\r\n$1\r\nx\r\n:1\r\n"))
    }

    @Test func theHubDeliversToChannelsPatternsAndShardsAndCountsThem() async {
        let hub = PubSubHub()
        let first = PubSubMailbox {}, second = PubSubMailbox {}
        var one = Subscriptions(), two = Subscriptions()
        one.channels = [Self.bytes("news")]
        one.patterns = [Self.bytes("n*")]
        two.patterns = [Self.bytes("*s")]
        two.shardChannels = [Self.bytes("news")]
        hub.update(1, one, mailbox: first, version: .resp2)
        hub.update(2, two, mailbox: second, version: .resp3)
        #expect(hub.deliver(channel: Self.bytes("news"), message: Self.bytes("hi"), sharded: false) == 3,
                "the channel, and both patterns")
        #expect(await first.next() == PubSubMessage.encode(.channel, pattern: nil, channel: Self.bytes("news"),
                                                           message: Self.bytes("hi"), version: .resp2))
        #expect(await first.next() == Self.bytes("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"))
        #expect(await second.next() == Self.bytes(">4\r\n$8\r\npmessage\r\n$2\r\n*s\r\n$4\r\nnews\r\n$2\r\nhi\r\n"))
        #expect(hub.deliver(channel: Self.bytes("news"), message: Self.bytes("s"), sharded: true) == 1)
        #expect(await second.next() == Self.bytes(">3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$1\r\ns\r\n"))
        let status = hub.status(sharded: false, pattern: nil, channels: [Self.bytes("news"), Self.bytes("none")])
        #expect(status == PubSubStatus(channels: [Self.bytes("news")], counts: [1, 0],
                                       patterns: [Self.bytes("n*"), Self.bytes("*s")]))
        #expect(hub.status(sharded: true, pattern: Self.bytes("x*"), channels: []).channels.isEmpty)
        hub.remove(1)
        #expect(hub.deliver(channel: Self.bytes("news"), message: Self.bytes("again"), sharded: false) == 1)
        #expect(PubSubStatus.merged([status, status], channelCount: 2).counts == [2, 0])
    }

    @Test func aMailboxPastItsLimitClosesTheConnectionOnce() async {
        let closed = Atomic<Int>(0)
        let mailbox = PubSubMailbox { closed.add(1, ordering: .relaxed) }
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<(PubSubMailbox.hardLimitBytes >> 20) { mailbox.post(chunk) }
        #expect(closed.load(ordering: .relaxed) == 0 && mailbox.waitingBytes == PubSubMailbox.hardLimitBytes)
        mailbox.post([1])
        mailbox.post([2])
        #expect(closed.load(ordering: .relaxed) == 1, "one byte past the hard limit closes the subscriber")
        #expect(mailbox.waitingBytes == 0)
        #expect(await mailbox.next() == nil)
    }

    @Test func aSubscriberReceivesMessagesAndStaysInSubscribedMode() async throws {
        try await B.withListener { _, port in
            try await B.withClient(port) { (subscriber) async throws in
                let confirmation = "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
                #expect(try await subscriber.exchange(B.command("SUBSCRIBE", "ch"), expecting: confirmation) == confirmation)
                let refusal = "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                    + "are allowed in this context\r\n"
                #expect(try await subscriber.exchange(B.command("GET", "k"), expecting: refusal) == refusal)
                let pong = "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
                #expect(try await subscriber.exchange(B.command("PING"), expecting: pong) == pong)
                try await B.withClient(port) { (publisher) async throws in
                    #expect(try await publisher.exchange(B.command("PUBLISH", "ch", "hello"), expecting: ":1\r\n") == ":1\r\n")
                    #expect(try await publisher.exchange(B.command("PUBLISH", "other", "x"), expecting: ":0\r\n") == ":0\r\n")
                    let numsub = "*4\r\n$2\r\nch\r\n:1\r\n$5\r\nother\r\n:0\r\n"
                    #expect(try await publisher.exchange(B.command("PUBSUB", "NUMSUB", "ch", "other"), expecting: numsub)
                            == numsub)
                    #expect(try await publisher.exchange(B.command("MULTI"), expecting: "+OK\r\n") == "+OK\r\n")
                    #expect(try await publisher.exchange(B.command("PUBLISH", "ch", "queued"), expecting: "+QUEUED\r\n")
                            == "+QUEUED\r\n")
                    #expect(try await publisher.exchange(B.command("EXEC"), expecting: "*1\r\n:1\r\n") == "*1\r\n:1\r\n",
                            "EXEC publishes in its place")
                }
                let message = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
                    + "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$6\r\nqueued\r\n"
                #expect(try await subscriber.exchange("", expecting: message) == message)
                let bye = "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"
                #expect(try await subscriber.exchange(B.command("UNSUBSCRIBE"), expecting: bye) == bye)
                #expect(try await subscriber.exchange(B.command("GET", "k"), expecting: "$-1\r\n") == "$-1\r\n",
                        "without subscriptions the connection is back to normal")
            }
        }
    }
}
