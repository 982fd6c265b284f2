import DurableIO
import Encryption
import Foundation
@testable import KV
import RESP
import Storage
import Testing
import TestSupport

/// Sorted sets as member rows and a counted B+ tree of sealed node rows (docs/formats.md §2a): random
/// commands over thousands of members agree with a sorted array after every entry, the tree keeps its shape
/// rules and leaves no node row behind, replicas build identical rows, and a sorted set moves to the index
/// key once the cluster has one.
@Suite struct SortedSetStorageTests {
    typealias Replica = SetStorageTests.Replica

    static let key = Array("z".utf8)

    /// The sorted set at `key` as `replica` stores it.
    static func header(_ replica: Replica, _ key: [UInt8] = key) throws -> SortedSetHeader? {
        guard case .sortedSet(let header)? = try replica.reader.lookup(key, nowMillis: 1_000)?.value else { return nil }
        return header
    }

    /// Walks the tree from the root: every leaf at depth `height`, counts and first members right, entries in
    /// order, node sizes within the limits (the root excepted); answers the entries and the node ids seen.
    static func walk(_ replica: Replica, _ header: SortedSetHeader) throws -> (entries: [ScoredMember], nodes: Set<UInt64>) {
        let tree = StoredSortedSet(rows: replica.reader, header: header)
        var entries: [ScoredMember] = []
        var nodes: Set<UInt64> = []
        func visit(_ id: UInt64, depth: Int, expected: SortedSetNode.Child?) throws {
            #expect(nodes.insert(id).inserted, "node \(id) is reached once")
            let node = try tree.node(id)
            if id != header.root {
                // (Members here are small: only nodes split for their bytes may hold fewer.)
                #expect(node.entryCount >= SortedSetEditor.minEntries,
                        "a non-root node holds at least the minimum (\(node.entryCount))")
            }
            #expect(node.entryCount <= SortedSetEditor.maxEntries)
            if let expected {
                #expect(node.memberCount == expected.count && node.first == expected.first, "the parent's summary is exact")
            }
            switch node {
            case .leaf(let members):
                #expect(depth == Int(header.height), "every leaf sits at the tree's height")
                entries += members
            case .inner(let children):
                #expect(depth < Int(header.height))
                for child in children { try visit(child.id, depth: depth + 1, expected: child) }
            }
        }
        try visit(header.root, depth: 1, expected: nil)
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0 < $1 }, "entries are in order")
        #expect(UInt64(entries.count) == header.count)
        #expect(nodes.allSatisfy { $0 < header.nextNode })
        return (entries, nodes)
    }

    /// The node rows and member rows of `header`'s generation, as stored.
    static func rows(_ replica: Replica, _ header: SortedSetHeader) throws -> (nodes: Set<UInt64>, members: Int) {
        let start = RedisKeyspace.element(header.generation, []), end = RedisKeyspace.generationEnd(header.generation)
        var nodes: Set<UInt64> = []
        var members = 0
        for row in try replica.store.scan(from: start, to: end, nowMillis: 0, limit: 1_000_000) {
            let part = Array(row.key.dropFirst(9))
            if part.first == SortedSetParts.nodeTag { nodes.insert(UInt64(bigEndianBytes: part.dropFirst())!) } else {
                members += 1
            }
        }
        return (nodes, members)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomCommandsAgreeWithASortedArray(seed: UInt64) async throws {
        try await CPUBoundWork.run {
            let replica = try Replica("zset-model-\(seed)")
            var random = SplitMix64(seed: seed)
            var model: [[UInt8]: Double] = [:]
            func sorted() -> [ScoredMember] { model.map { ScoredMember(score: $0.value, member: $0.key) }.sorted() }
            func member(_ n: UInt64) -> [UInt8] { Array("m\(n % 5_000)".utf8) }
            func score() -> Double { Double(Int64(random.next() % 2_001) - 1_000) / Double([1, 4, 10][Int(random.next() % 3)]) }
            for step in 0..<120 {
                let command: SortedSetCommand
                switch random.next() % 10 {
                case 0...4:
                    // Mostly adds, so the tree grows to three levels.
                    let entries = (0..<Int(random.next() % 80 + 1)).map { _ in ScoredMember(score: score(), member: member(random.next())) }
                    command = .add(key: Self.key, entries: entries, options: [])
                    for entry in entries { model[entry.member] = entry.score }
                case 5:
                    let members = (0..<Int(random.next() % 60 + 1)).map { _ in member(random.next()) }
                    command = .remove(key: Self.key, members: members)
                    for member in members { model[member] = nil }
                case 6:
                    let start = Int64(random.next() % 400), length = Int64(random.next() % 300)
                    command = .removeRange(key: Self.key, .rank(start: start, stop: start + length))
                    let doomed = sorted()
                    if start < doomed.count {
                        for entry in doomed[Int(start)...min(Int(start + length), doomed.count - 1)] { model[entry.member] = nil }
                    }
                case 7:
                    let low = score(), high = low + Double(random.next() % 50)
                    command = .removeRange(key: Self.key, .score(min: ScoreBound(low), max: ScoreBound(high, exclusive: true)))
                    for (member, value) in model where value >= low && value < high { model[member] = nil }
                case 8:
                    let count = Int64(random.next() % 100), highest = random.next() % 2 == 0
                    command = .pop(keys: [Self.key], highest: highest, count: count, form: .single)
                    let order = sorted()
                    for entry in (highest ? Array(order.suffix(Int(count))) : Array(order.prefix(Int(count)))) {
                        model[entry.member] = nil
                    }
                default:
                    let target = member(random.next()), increment = score()
                    command = .add(key: Self.key, entries: [ScoredMember(score: increment, member: target)], options: .increment)
                    model[target] = (model[target] ?? 0) + increment
                }
                let answers = replica.run([.sortedSets(command)])
                if case .error(let error)? = answers.first { Issue.record("seed \(seed) step \(step): \(error)") }
                let expected = sorted()
                guard let header = try Self.header(replica) else {
                    #expect(expected.isEmpty, "seed \(seed) step \(step): the key went with its last member")
                    continue
                }
                let (entries, nodes) = try Self.walk(replica, header)
                #expect(entries == expected, "seed \(seed) step \(step)")
                let stored = try Self.rows(replica, header)
                #expect(stored.nodes == nodes, "seed \(seed) step \(step): no node row outside the tree")
                #expect(stored.members == expected.count, "seed \(seed) step \(step): one member row per member")
                // Ranks, counts and limited ranges through the public reads.
                for probe in expected.indices where probe % 97 == 0 {
                    let entry = expected[probe]
                    #expect(try replica.reader.sortedSetRank(header, entry.member, reverse: false) == UInt64(probe))
                    #expect(try replica.reader.sortedSetScore(header, entry.member) == entry.score)
                }
                let low = score(), high = low + 100
                let inRange = expected.filter { $0.score > low && $0.score <= high }
                #expect(try replica.reader.sortedSetCount(header, .score(min: ScoreBound(low, exclusive: true),
                                                                         max: ScoreBound(high))) == UInt64(inRange.count))
                let query = SortedSetQuery(.score(min: ScoreBound(low, exclusive: true), max: ScoreBound(high)), reverse: true,
                                           limit: (offset: 3, count: 20))
                #expect(try replica.reader.sortedSetQuery(header, query) == Array(inRange.reversed().dropFirst(3).prefix(20)))
                if step == 119 { #expect(header.height >= 2, "the test reached a tree of several levels") }
            }
        }
    }

    @Test func replicasBuildTheSameRowsAndARestartKeepsThem() throws {
        let first = try Replica("zset-a"), second = try Replica("zset-b")
        var random = SplitMix64(seed: 9)
        for _ in 0..<30 {
            let entries = (0..<50).map { _ in
                ScoredMember(score: Double(random.next() % 1_000), member: Array("k\(random.next() % 3_000)".utf8))
            }
            let commands: [Command] = [.sortedSets(.add(key: Self.key, entries: entries, options: [])),
                                       .sortedSets(.pop(keys: [Self.key], highest: true, count: 7, form: .single))]
            #expect(first.run(commands) == second.run(commands))
        }
        let a = try first.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000_000)
        let b = try second.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000_000)
        #expect(a.map(\.key) == b.map(\.key) && a.map(\.body) == b.map(\.body), "replicas hold identical element rows")
        let header = try #require(try Self.header(first))
        #expect(header.height >= 2)
        _ = try Self.walk(first, header)
    }

    @Test func everyChangeToOneMemberRewritesOnePathOfNodes() async throws {
        try await CPUBoundWork.run {
            let replica = try Replica("zset-path")
            let members = (0..<5_000).map { ScoredMember(score: Double($0), member: Array("member-\($0)".utf8)) }
            replica.run([.sortedSets(.add(key: Self.key, entries: members, options: []))])
            let header = try #require(try Self.header(replica))
            #expect(header.height == 3, "5,000 members make three levels")
            let before = try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000_000)
            replica.run([.sortedSets(.add(key: Self.key, entries: [ScoredMember(score: 2_500.5, member: Array("new".utf8))],
                                          options: []))])
            let after = try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000_000)
            let newer = after.filter { $0.commitTS > before.map(\.commitTS).max()! }
            // One member row and at most a node per level, plus a sibling when a node split.
            #expect(newer.count >= 1 + 3 && newer.count <= 1 + 3 + 3, "\(newer.count) rows written")
        }
    }

    @Test func aSortedSetMovesToTheIndexKeyWhenMembersAreNextAdded() throws {
        let keystore = Keystore()
        let replica = try Replica("zset-index", indexes: ElementIndexes(keystore: keystore))
        let early = (0..<200).map { ScoredMember(score: Double($0 % 17), member: Array("e\($0)".utf8)) }
        replica.run([.sortedSets(.add(key: Self.key, entries: early, options: []))])
        #expect(try Self.header(replica)?.indexKeyID == 0)
        try keystore.install(try DataEncryptionKey(bytes: [UInt8](repeating: 5, count: 32)), id: 61, purpose: .index)
        try keystore.activate(id: 61, for: .index)
        replica.run([.sortedSets(.add(key: Self.key, entries: [ScoredMember(score: 3, member: Array("late".utf8))],
                                      options: []))])
        let header = try #require(try Self.header(replica))
        #expect(header.indexKeyID == 61)
        let (entries, nodes) = try Self.walk(replica, header)
        #expect(entries == (early + [ScoredMember(score: 3, member: Array("late".utf8))]).sorted())
        let all = try replica.store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 1_000_000)
        #expect(all.count == nodes.count + 201, "the unkeyed generation's rows went when the set moved")
        let keyed = try #require(keystore.elementIndex(keyID: 61))
        #expect(try replica.reader.sortedSetScore(header, Array("e5".utf8)) == 5)
        #expect(all.contains { Array($0.key.dropFirst(10)) == keyed.name(Array("late".utf8)) })
    }

    @Test func scoresFollowRedisRules() throws {
        let replica = try Replica("zset-rules")
        let add = { (entries: [(Double, String)], options: SortedSetAddOptions) in
            replica.run([.sortedSets(.add(key: Self.key, entries: entries.map { ScoredMember(score: $0.0, member: Array($0.1.utf8)) },
                                          options: options))])
        }
        #expect(add([(1, "a"), (2, "b")], []) == [.integer(2)])
        #expect(add([(5, "a"), (0, "c")], [.onlyExisting, .changed]) == [.integer(1)], "XX CH: one changed, none added")
        #expect(add([(3, "a")], [.greater]) == [.integer(0)])
        #expect(try Self.header(replica).map { try replica.reader.sortedSetScore($0, Array("a".utf8)) } == 5,
                "GT refuses a lower score")
        #expect(add([(.infinity, "a")], .increment) == [.reply(.double(.infinity))])
        #expect(add([(-.infinity, "a")], .increment) == [.error(.scoreNotANumber)], "inf + -inf is refused")
        #expect(add([(1, "zz")], [.onlyExisting, .increment]) == [.null])
        #expect(add([(-0.0, "neg")], []) == [.integer(1)])
        let header = try #require(try Self.header(replica))
        #expect(try replica.reader.sortedSetScore(header, Array("neg".utf8))?.sign == .plus, "−0 is kept as 0")
        #expect(RESPValue.double(1.1).encoded(.resp2) == Array("$18\r\n1.1000000000000001\r\n".utf8))
        #expect(RESPValue.double(-.infinity).encoded(.resp3) == Array(",-inf\r\n".utf8))
        #expect(RESPValue.double(1e20).encoded(.resp2) == Array("$5\r\n1e+20\r\n".utf8))
    }

    @Test func malformedNodesAndMemberRowsAreRefused() throws {
        var nan: [UInt8] = []
        nan.appendBigEndian(Double.nan.bitPattern)
        for body: [UInt8] in [[], [0x00, 0x00, 0x00], [0x02, 0x00, 0x01], [0x00, 0x00, 0x01, 0x7F],
                              [0x00, 0x00, 0x01] + nan + [0, 0, 0, 0],
                              [0x01, 0x00, 0x01] + [UInt8](repeating: 0, count: 16) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] {
            #expect(throws: StorageError.self, "\(body)") { try SortedSetNode(decoding: body) }
        }
        let leaf = SortedSetNode.leaf([ScoredMember(score: 1, member: [1, 2]), ScoredMember(score: 2, member: [])])
        #expect(try SortedSetNode(decoding: leaf.encoded()) == leaf)
        #expect(throws: StorageError.self) { try SortedSetNode(decoding: leaf.encoded() + [0]) }
        #expect(throws: StorageError.self) { try SortedSetParts.decodeMemberBody([1, 2, 3]) }
        #expect(throws: KVError.self) {
            try RedisValue(decoding: [0x04] + [UInt8](repeating: 0, count: SortedSetHeader.encodedCount - 1))
        }
    }
}
