import Raft

/// An in-memory network over simulated time that drops, duplicates, delays, reorders and partitions.
///
/// All randomness comes from the generator it is given, so a run replays exactly from its seed.
public final class SimulatedNetwork: RaftTransport {
    /// A message and the step at which it arrives.
    struct InFlight {
        var deliverAt: UInt64
        var sequence: UInt64
        var message: Message
    }

    private var random: SplitMix64
    private var inFlight: [InFlight] = []
    private var sequence: UInt64 = 0
    /// The current simulated step.
    public var now: UInt64 = 0
    /// Chance that a message is lost.
    public var dropProbability: Double
    /// Chance that a message is delivered twice.
    public var duplicateProbability: Double
    /// Each message arrives 1 through `maxDelaySteps` steps after it is sent.
    public var maxDelaySteps: UInt64
    /// Partition group of each member; members in different groups cannot talk. Empty means fully connected.
    public var partitionGroups: [NodeID: Int] = [:]
    /// Members whose traffic is cut in both directions, whatever the groups say.
    public var isolated: Set<NodeID> = []
    /// Messages accepted for delivery, dropped, and delivered, for the report.
    public private(set) var sentCount = 0
    public private(set) var droppedCount = 0

    public init(seed: UInt64, dropProbability: Double = 0, duplicateProbability: Double = 0, maxDelaySteps: UInt64 = 1)
    {
        random = SplitMix64(seed: seed)
        self.dropProbability = dropProbability
        self.duplicateProbability = duplicateProbability
        self.maxDelaySteps = max(1, maxDelaySteps)
    }

    /// Whether `from` can currently reach `to`.
    public func canReach(_ from: NodeID, _ to: NodeID) -> Bool {
        if isolated.contains(from) || isolated.contains(to) { return false }
        return partitionGroups[from, default: 0] == partitionGroups[to, default: 0]
    }

    /// Accepts messages for delivery, deciding each one's fate (lost, duplicated, delayed) now.
    public func send(_ messages: [Message]) {
        for message in messages {
            sentCount += 1
            if chance(dropProbability) {
                droppedCount += 1
                continue
            }
            enqueue(message)
            if chance(duplicateProbability) { enqueue(message) }
        }
    }

    private func enqueue(_ message: Message) {
        let delay = 1 + random.next() % maxDelaySteps
        sequence += 1
        inFlight.append(InFlight(deliverAt: now + delay, sequence: sequence, message: message))
    }

    /// Removes and returns the messages due by `now` that the partitions let through, in delivery order.
    public func takeDeliverable() -> [Message] {
        var due: [InFlight] = []
        var remaining: [InFlight] = []
        for item in inFlight {
            if item.deliverAt <= now { due.append(item) } else { remaining.append(item) }
        }
        inFlight = remaining
        due.sort { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        return due.map(\.message).filter { canReach($0.from, $0.to) }
    }

    /// Drops everything in flight to or from `member` (its process went away).
    public func discardTraffic(of member: NodeID) {
        inFlight.removeAll { $0.message.to == member }
    }

    /// Reconnects everyone.
    public func heal() {
        partitionGroups = [:]
        isolated = []
    }

    /// Number of messages waiting for delivery.
    public var pendingCount: Int { inFlight.count }

    private func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(random.next() % 1_000_000) < probability * 1_000_000
    }
}
