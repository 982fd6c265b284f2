extension WriterRegistry {
    /// What the cluster decided about a node's own registration batch.
    public enum Confirmation: Sendable, Hashable {
        /// The batch is committed and its rows hold: the node may seal with the registered epochs.
        case accepted
        /// The batch is committed but the rules refused it, or it only replayed rows an earlier life of the node
        /// registered.
        case rejected(WriterRegistryError)
    }

    /// Decides, from committed entries not yet applied, whether a node's registration batch took effect.
    ///
    /// A restarting node must not seal before its registration is committed (DESIGN §3.6), and it may be
    /// unable to apply entries until it can seal. Committed entries are final, and the rules are
    /// deterministic, so the node replays the registry rules over the committed writer registrations that
    /// follow its applied state to learn the outcome every replica will reach. Only writer-registration
    /// entries change existing rows of keys the node already holds (bootstrap and rotation entries register
    /// new keys), so they are the only input.
    ///
    /// - Parameters:
    ///   - mine: the node's registration batch, exactly as proposed.
    ///   - rows: the applied rows of every key the batches touch.
    ///   - committed: the batches of committed, unapplied registration entries, in log order.
    /// The first committed copy decides, and it must move every row it names (insert or advance). A copy
    /// that finds a row already at its epoch is a replay of a registration this node made in an earlier life
    /// (its data dir was restored from an older copy): that epoch may already have sealed, so it counts as a
    /// rollback and the node moves past it.
    ///
    /// - Returns: the decision at the first committed copy of `mine`; `nil` when none is committed yet.
    public static func confirmation(
        of mine: [WriterRegistration], rows: [WriterRegistryKey: WriterRegistryRow],
        committed: [[WriterRegistration]]
    ) -> Confirmation? {
        var rows = rows
        for batch in committed {
            do {
                let changed = try plan(batch, existing: rows)
                if batch == mine {
                    guard let replayed = mine.first(where: { changed[$0.registryKey] == nil }) else { return .accepted }
                    return .rejected(.localEpochRollback(
                        dekID: replayed.dekID, fullNodeID: replayed.fullNodeID,
                        lastSeenLocalEpoch: replayed.localEpoch, claimedLocalEpoch: replayed.localEpoch))
                }
                rows.merge(changed) { _, new in new }
            } catch {
                if batch == mine { return .rejected(error) }
            }
        }
        return nil
    }
}
