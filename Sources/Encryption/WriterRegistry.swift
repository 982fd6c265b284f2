/// The writer-registry rules (DESIGN §3.6) as pure functions of a registration and the current row.
///
/// The applier reads the rows a batch touches, asks ``plan(_:existing:)`` for the rows to write, and writes
/// them only when the whole batch is acceptable; the decision itself never touches a store.
public enum WriterRegistry {
    /// What applying one registration does to its row.
    public enum Decision: Sendable, Hashable {
        /// Rule 1: there was no row; this one is inserted with first = last = epoch.
        case insert(WriterRegistryRow)
        /// Rule 3: the same node registered the same epoch again (a replay); nothing changes.
        case unchanged
        /// Rule 5: the same node moved to a later epoch; the row's last epoch becomes it.
        case advance(WriterRegistryRow)
    }

    /// Applies the five rules to one registration.
    ///
    /// - Parameters:
    ///   - registration: the claim to apply.
    ///   - existing: the row under the registration's ``WriterRegistryKey``, if any.
    /// - Throws: ``WriterRegistryError/nodeIDCollision(dekID:node16:registeredFullNodeID:claimingFullNodeID:)``
    ///   (rule 2) or ``WriterRegistryError/localEpochRollback(dekID:fullNodeID:lastSeenLocalEpoch:claimedLocalEpoch:)``
    ///   (rule 4).
    public static func decide(
        _ registration: WriterRegistration, existing: WriterRegistryRow?
    ) throws(WriterRegistryError) -> Decision {
        let epoch = registration.localEpoch
        guard let existing else {
            return .insert(
                WriterRegistryRow(
                    fullNodeID: registration.fullNodeID, firstSeenLocalEpoch: epoch,
                    lastSeenLocalEpoch: epoch))
        }
        guard existing.fullNodeID == registration.fullNodeID else {
            throw .nodeIDCollision(
                dekID: registration.dekID, node16: registration.node16,
                registeredFullNodeID: existing.fullNodeID,
                claimingFullNodeID: registration.fullNodeID)
        }
        if epoch == existing.lastSeenLocalEpoch { return .unchanged }
        guard epoch > existing.lastSeenLocalEpoch else {
            throw .localEpochRollback(
                dekID: registration.dekID, fullNodeID: registration.fullNodeID,
                lastSeenLocalEpoch: existing.lastSeenLocalEpoch, claimedLocalEpoch: epoch)
        }
        return .advance(
            WriterRegistryRow(
                fullNodeID: existing.fullNodeID,
                firstSeenLocalEpoch: existing.firstSeenLocalEpoch,
                lastSeenLocalEpoch: epoch))
    }

    /// Applies a batch in order and returns the rows to write, or throws for the first refused registration.
    ///
    /// Later registrations of the batch see the rows earlier ones produced, so a batch is equivalent to applying
    /// its registrations one by one; but nothing is returned unless every one is accepted.
    /// - Parameters:
    ///   - registrations: the batch, in entry order.
    ///   - existing: the stored row of every key the batch touches (absent keys have no row).
    /// - Returns: the new row of every key whose row changes.
    /// - Throws: the ``WriterRegistryError`` of the first refused registration.
    public static func plan(
        _ registrations: [WriterRegistration], existing: [WriterRegistryKey: WriterRegistryRow]
    ) throws(WriterRegistryError) -> [WriterRegistryKey: WriterRegistryRow] {
        var current = existing
        var changed: [WriterRegistryKey: WriterRegistryRow] = [:]
        for registration in registrations {
            let key = registration.registryKey
            switch try decide(registration, existing: current[key]) {
            case .unchanged:
                continue
            case .insert(let row), .advance(let row):
                current[key] = row
                changed[key] = row
            }
        }
        return changed
    }
}
