import Raft

/// A cluster of ``RaftNode``s driven step by step by a test: the test decides which messages are delivered,
/// which links are cut and when members tick, crash or compact.
///
/// Each member's ready batches are processed in the documented order (persist to its ``MemoryRaftStorage``,
/// queue messages, apply, advance). The state machine is the list of applied payloads, and its snapshot
/// encoding is those payloads, each prefixed by a 4-byte big-endian length.
public final class ScriptedCluster {
    /// The running members.
    public private(set) var nodes: [NodeID: RaftNode] = [:]
    /// Every member's storage, kept while it is stopped.
    public private(set) var storages: [NodeID: MemoryRaftStorage] = [:]
    /// Payloads of applied non-empty normal entries, per member.
    public private(set) var applied: [NodeID: [[UInt8]]] = [:]
    /// Read states handed out, per member.
    public private(set) var readStates: [NodeID: [ReadState]] = [:]
    /// Messages sent and not yet delivered or dropped.
    public private(set) var mailbox: [Message] = []
    /// Every message handed out so far, for assertions about traffic.
    public private(set) var sentLog: [Message] = []
    /// Links cut in the direction (from, to).
    private var cutLinks: Set<[NodeID]> = []
    private let makeConfiguration: (NodeID) -> RaftConfiguration
    private var random: SplitMix64
    /// Delivery rounds before ``stabilize()`` gives up: a cluster that keeps talking is a bug.
    public static let maxStabilizeRounds = 10_000

    /// Creates members `voters` (bootstrapped with that membership) plus `spares` with empty storage.
    ///
    /// - Parameters:
    ///   - configure: adjusts each member's configuration (timing and limits).
    ///   - storages: preset storage for some members (to script logs), used instead of a fresh one.
    public init(
        voters: [NodeID], spares: [NodeID] = [], seed: UInt64 = 1,
        configure: @escaping (inout RaftConfiguration) -> Void = { _ in },
        storages preset: [NodeID: MemoryRaftStorage] = [:]
    ) {
        random = SplitMix64(seed: seed)
        makeConfiguration = { id in
            var configuration = RaftConfiguration(id: id)
            configure(&configuration)
            return configuration
        }
        for id in voters + spares {
            let bootstrap = voters.contains(id) ? ConfigurationState(voters: Set(voters)) : ConfigurationState()
            storages[id] = preset[id] ?? MemoryRaftStorage(configuration: bootstrap)
            start(id)
        }
    }

    /// The member `id`.
    public subscript(id: NodeID) -> RaftNode {
        guard let node = nodes[id] else { preconditionFailure("Member \(id) is not running.") }
        return node
    }

    /// The running leaders.
    public var leaders: [NodeID] { nodes.filter { $0.value.role == .leader }.map(\.key).sorted() }

    /// (Re)starts member `id` from its storage; a running member is replaced as if it crashed and restarted
    /// (its storage is always fully durable here).
    public func start(_ id: NodeID) {
        let storage = storages[id]!
        let snapshot = (try? storage.snapshot()) ?? Snapshot()
        applied[id] = Self.decode(snapshot.data)
        do {
            nodes[id] = try RaftNode(configuration: makeConfiguration(id), storage: storage, random: random)
        } catch {
            preconditionFailure("In-memory storage cannot fail to load, yet it did: \(error)")
        }
        _ = random.next()
    }

    /// Stops member `id`; messages to it are dropped until it starts again.
    public func stop(_ id: NodeID) {
        nodes[id] = nil
    }

    /// Replaces a stopped member's storage, e.g. with an older copy of it (a data dir restored from a backup).
    public func replaceStorage(_ id: NodeID, with storage: MemoryRaftStorage) {
        precondition(nodes[id] == nil, "Stop member \(id) before replacing its storage.")
        storages[id] = storage
    }

    /// Adds a member with empty storage (not yet in any configuration).
    public func addSpare(_ id: NodeID) {
        storages[id] = MemoryRaftStorage()
        start(id)
    }

    /// Cuts both directions between `member` and everyone else.
    public func isolate(_ member: NodeID) {
        for other in storages.keys where other != member {
            cutLinks.insert([member, other])
            cutLinks.insert([other, member])
        }
    }

    /// Cuts both directions between `a` and `b`.
    public func cut(_ a: NodeID, _ b: NodeID) {
        cutLinks.insert([a, b])
        cutLinks.insert([b, a])
    }

    /// Restores every link.
    public func heal() {
        cutLinks = []
    }

    /// Processes every member's ready batches: persist, queue messages, apply, advance.
    public func processReadies() {
        for id in nodes.keys.sorted() {
            guard let node = nodes[id], let storage = storages[id] else { continue }
            while node.hasReady {
                let ready = node.ready()
                if let hardState = ready.hardState { storage.setHardState(hardState) }
                if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
                storage.append(ready.entries)
                mailbox += ready.messages
                sentLog += ready.messages
                if let snapshot = ready.snapshot { applied[id] = Self.decode(snapshot.data) }
                for entry in ready.committedEntries where entry.kind == .normal && !entry.data.isEmpty {
                    applied[id, default: []].append(entry.data)
                }
                readStates[id, default: []] += ready.readStates
                node.advance(ready)
            }
        }
    }

    /// Delivers the queued messages that `filter` accepts (in order), once; the rest stay queued.
    public func deliver(where filter: (Message) -> Bool = { _ in true }) {
        processReadies()
        let batch = mailbox
        mailbox = []
        for message in batch {
            guard filter(message) else {
                mailbox.append(message)
                continue
            }
            guard !cutLinks.contains([message.from, message.to]), let node = nodes[message.to] else { continue }
            node.step(message)
        }
        processReadies()
    }

    /// Drops queued messages that `filter` accepts.
    public func drop(where filter: (Message) -> Bool) {
        processReadies()
        mailbox.removeAll(where: filter)
    }

    /// Delivers messages until none are left.
    public func stabilize() {
        processReadies()
        var rounds = 0
        while !mailbox.isEmpty {
            rounds += 1
            precondition(rounds < Self.maxStabilizeRounds, "The cluster never went quiet.")
            deliver()
        }
    }

    /// Ticks every running member `count` times, stabilizing after each tick.
    public func tickAll(_ count: Int) {
        for _ in 0..<count {
            for id in nodes.keys.sorted() { nodes[id]?.tick() }
            stabilize()
        }
    }

    /// Ticks only `member`, `count` times, stabilizing after each tick.
    public func tick(_ member: NodeID, _ count: Int) {
        for _ in 0..<count {
            nodes[member]?.tick()
            stabilize()
        }
    }

    /// Makes `member` campaign and delivers everything.
    public func elect(_ member: NodeID) {
        self[member].campaign()
        stabilize()
    }

    /// Snapshots `member`'s state machine at its applied index and compacts its log through that index.
    public func compact(_ member: NodeID) {
        let node = self[member]
        let storage = storages[member]!
        let index = node.appliedIndex
        do {
            try storage.createSnapshot(
                at: index, configuration: node.configurationState(asOf: index), data: Self.encode(applied[member] ?? [])
            )
            try storage.compact(through: index)
        } catch {
            preconditionFailure("Compacting member \(member) at \(index) failed: \(error)")
        }
        node.didCompact(through: index)
    }

    static func encode(_ payloads: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for payload in payloads {
            let count = UInt32(payload.count)
            bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)]
            bytes += payload
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let count = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            payloads.append(Array(bytes[(offset + 4)..<(offset + 4 + count)]))
            offset += 4 + count
        }
        precondition(offset == bytes.count, "A scripted-cluster snapshot is a sequence of length-prefixed payloads.")
        return payloads
    }
}
