import Raft

extension ReplicatedNode {
    /// How long a stopping leader waits for its successor to take over.
    static let handoffTimeout: Duration = .seconds(5)

    /// Hands leadership to the most caught-up voter before this member stops, so clients see one short
    /// election-free switch instead of an election timeout of unavailability.
    ///
    /// - Returns: the new leader's name, or `nil` when this member does not lead, is the only voter, or the
    ///   successor did not take over within ``handoffTimeout`` (the cluster then elects one as usual).
    public func handOffLeadership() async -> String? {
        guard halt == nil, let target = core.mostCaughtUpVoter else { return nil }
        let name = memberDirectory()[target]?.name ?? String(target)
        do throws(RaftError) { try core.transferLeadership(to: target) } catch {
            logger.warning("leadership hand-off refused", metadata: ["to": "\(name)", "error": "\(error)"])
            return nil
        }
        logger.info("handing leadership off before shutdown", metadata: ["to": "\(name)"])
        process()
        let deadline = ContinuousClock.now + Self.handoffTimeout
        while ContinuousClock.now < deadline {
            if core.leader == target {
                logger.info("leadership handed off", metadata: ["leader": "\(name)", "term": "\(core.term)"])
                return name
            }
            try? await Task.sleep(for: options.tickInterval)
        }
        logger.warning("leadership hand-off timed out; the cluster will elect a leader", metadata: ["to": "\(name)"])
        return nil
    }
}
