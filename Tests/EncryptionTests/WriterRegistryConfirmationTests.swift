import Encryption
import Testing

/// ``WriterRegistry/confirmation(of:rows:committed:)``: a restarting node replays the registry rules over the
/// committed, unapplied registration batches to learn what every replica will decide about its own batch.
@Suite("Writer registry confirmation")
struct WriterRegistryConfirmationTests {
    static let dek: KeyID = 7
    static let (me, intruder) = collidingFullNodeIDs

    static func registration(_ full: UInt64 = me, epoch: UInt16, dek: KeyID = dek) -> WriterRegistration {
        WriterRegistration(dekID: dek, fullNodeID: full, localEpoch: epoch)
    }

    static func row(_ full: UInt64 = me, first: UInt16, last: UInt16) -> WriterRegistryRow {
        WriterRegistryRow(fullNodeID: full, firstSeenLocalEpoch: first, lastSeenLocalEpoch: last)
    }

    static var key: WriterRegistryKey { registration(epoch: 0).registryKey }

    // MARK: - Not committed yet

    @Test("nothing committed: no decision yet")
    func nothingCommitted() {
        #expect(WriterRegistry.confirmation(of: [Self.registration(epoch: 1)], rows: [:], committed: []) == nil)
    }

    @Test("only other batches committed: no decision yet")
    func onlyOtherBatchesCommitted() {
        let mine = [Self.registration(epoch: 2)]
        let others = [[Self.registration(epoch: 1)], [Self.registration(epoch: 2, dek: 8)]]
        #expect(WriterRegistry.confirmation(of: mine, rows: [:], committed: others) == nil)
    }

    @Test("a batch that holds the same registrations in another order is not mine")
    func reorderedBatchIsNotMine() {
        let mine = [Self.registration(epoch: 1), Self.registration(epoch: 1, dek: 8)]
        let reordered = [Self.registration(epoch: 1, dek: 8), Self.registration(epoch: 1)]
        #expect(WriterRegistry.confirmation(of: mine, rows: [:], committed: [reordered]) == nil)
    }

    // MARK: - Accepted

    @Test("accepted when the batch inserts a new row")
    func acceptedOnInsert() {
        #expect(
            WriterRegistry.confirmation(
                of: [Self.registration(epoch: 3)], rows: [:], committed: [[Self.registration(epoch: 3)]])
                == .accepted)
    }

    @Test("accepted when the batch advances the node's own row")
    func acceptedOnAdvance() {
        let mine = [Self.registration(epoch: 4)]
        #expect(
            WriterRegistry.confirmation(of: mine, rows: [Self.key: Self.row(first: 0, last: 3)], committed: [mine])
                == .accepted)
    }

    @Test("accepted for a multi-key batch when every registration inserts or advances its row")
    func acceptedMultiKey() {
        let mine = [Self.registration(epoch: 2), Self.registration(epoch: 5, dek: 8)]
        let rows = [Self.key: Self.row(first: 0, last: 1)]
        #expect(WriterRegistry.confirmation(of: mine, rows: rows, committed: [mine]) == .accepted)
    }

    // MARK: - Rejected

    @Test("rejected as a rollback when an earlier committed batch raised the epoch")
    func rejectedAsRollbackAfterEarlierRaise() {
        let mine = [Self.registration(epoch: 3)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [Self.key: Self.row(first: 0, last: 1)],
            committed: [[Self.registration(epoch: 5)], mine])
        #expect(
            outcome
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 5, claimedLocalEpoch: 3)))
    }

    @Test("rejected as a rollback when the first copy replays the epoch the row already holds")
    func rejectedAsRollbackOnReplay() {
        let mine = [Self.registration(epoch: 3)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [Self.key: Self.row(first: 1, last: 3)], committed: [mine])
        #expect(
            outcome
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 3, claimedLocalEpoch: 3)))
    }

    @Test("rejected as a rollback when one row of a multi-key batch is replayed while the others move")
    func rejectedWhenOneRowOfTheBatchIsReplayed() {
        let mine = [Self.registration(epoch: 2), Self.registration(epoch: 5, dek: 8)]
        let rows = [
            Self.key: Self.row(first: 0, last: 1),
            Self.registration(epoch: 0, dek: 8).registryKey: Self.row(first: 5, last: 5),
        ]
        #expect(
            WriterRegistry.confirmation(of: mine, rows: rows, committed: [mine])
                == .rejected(
                    .localEpochRollback(dekID: 8, fullNodeID: Self.me, lastSeenLocalEpoch: 5, claimedLocalEpoch: 5)))
    }

    @Test("rejected as a rollback when an earlier committed batch moved the row to the claimed epoch")
    func rejectedAsRollbackAfterEarlierBatchReachedTheEpoch() {
        let mine = [Self.registration(epoch: 3)]
        // An earlier life of the node registered epoch 3 in a batch that also named dek 8.
        let earlier = [Self.registration(epoch: 3), Self.registration(epoch: 3, dek: 8)]
        #expect(
            WriterRegistry.confirmation(
                of: mine, rows: [Self.key: Self.row(first: 0, last: 1)], committed: [earlier, mine])
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 3, claimedLocalEpoch: 3)))
    }

    @Test("rejected as a collision when another full node id holds the node16")
    func rejectedAsCollision() {
        let mine = [Self.registration(epoch: 0)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [Self.key: Self.row(Self.intruder, first: 0, last: 0)], committed: [mine])
        #expect(
            outcome
                == .rejected(
                    .nodeIDCollision(
                        dekID: Self.dek, node16: 5, registeredFullNodeID: Self.intruder, claimingFullNodeID: Self.me)))
    }

    @Test("one refused registration rejects the whole batch")
    func oneRefusalRejectsTheBatch() {
        let mine = [Self.registration(epoch: 9, dek: 8), Self.registration(epoch: 2)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [Self.key: Self.row(first: 0, last: 4)], committed: [mine])
        #expect(
            outcome
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 4, claimedLocalEpoch: 2)))
    }

    // MARK: - Order of batches

    @Test("a rejected earlier batch leaves the rows as they were")
    func rejectedEarlierBatchChangesNothing() {
        let otherKey = Self.registration(epoch: 0, dek: 8).registryKey
        let rows = [
            Self.key: Self.row(first: 0, last: 2),
            otherKey: Self.row(Self.intruder, first: 0, last: 0),
        ]
        // Applied alone, the first registration would raise dek 7 to epoch 9; its batch collides on dek 8.
        let refused = [Self.registration(epoch: 9), Self.registration(epoch: 1, dek: 8)]
        let mine = [Self.registration(epoch: 3)]
        #expect(WriterRegistry.confirmation(of: mine, rows: rows, committed: [refused, mine]) == .accepted)
    }

    @Test("a row inserted by an earlier batch makes a later claimant of its node16 collide")
    func earlierInsertIsSeen() {
        let mine = [Self.registration(epoch: 0)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [:], committed: [[Self.registration(Self.intruder, epoch: 4)], mine])
        #expect(
            outcome
                == .rejected(
                    .nodeIDCollision(
                        dekID: Self.dek, node16: 5, registeredFullNodeID: Self.intruder, claimingFullNodeID: Self.me)))
    }

    @Test("rows advanced by several earlier batches accumulate")
    func earlierAdvancesAccumulate() {
        let mine = [Self.registration(epoch: 5)]
        let earlier = [[Self.registration(epoch: 2)], [Self.registration(epoch: 6)], [Self.registration(epoch: 4)]]
        // Epoch 4 is refused after 6, so the row stays at 6 and mine (5) is a rollback from 6.
        #expect(
            WriterRegistry.confirmation(of: mine, rows: [:], committed: earlier + [mine])
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 6, claimedLocalEpoch: 5)))
    }

    @Test("the first committed copy decides: a later duplicate that would be refused changes nothing")
    func firstCopyDecidesAccepted() {
        let mine = [Self.registration(epoch: 3)]
        #expect(
            WriterRegistry.confirmation(of: mine, rows: [:], committed: [mine, [Self.registration(epoch: 8)], mine])
                == .accepted)
    }

    @Test("the first committed copy decides: a later duplicate, which replays its rows, changes nothing")
    func laterDuplicateOfAcceptedCopy() {
        let mine = [Self.registration(epoch: 3)]
        let rows = [Self.key: Self.row(first: 0, last: 2)]
        #expect(WriterRegistry.confirmation(of: mine, rows: rows, committed: [mine, mine]) == .accepted)
    }

    @Test("the first committed copy decides: a refused first copy stays refused")
    func firstCopyDecidesRejected() {
        let mine = [Self.registration(epoch: 3)]
        let outcome = WriterRegistry.confirmation(
            of: mine, rows: [:], committed: [[Self.registration(epoch: 8)], mine, [Self.registration(epoch: 9)], mine])
        #expect(
            outcome
                == .rejected(
                    .localEpochRollback(
                        dekID: Self.dek, fullNodeID: Self.me, lastSeenLocalEpoch: 8, claimedLocalEpoch: 3)))
    }

    @Test("batches after the first copy of mine are not read")
    func laterBatchesIgnored() {
        let mine = [Self.registration(epoch: 1)]
        let later = [Self.registration(Self.intruder, epoch: 0)]
        #expect(WriterRegistry.confirmation(of: mine, rows: [:], committed: [mine, later]) == .accepted)
    }

    // MARK: - Rule table

    /// The expected decision for one claim over one prior row, restated from DESIGN §3.6.
    ///
    /// The first copy must move the row: a claim equal to the node's last epoch replays an earlier life's
    /// registration and counts as a rollback with `last == claimed`.
    static func expected(claim: WriterRegistration, prior: WriterRegistryRow?) -> WriterRegistry.Confirmation {
        guard let prior else { return .accepted }
        guard prior.fullNodeID == claim.fullNodeID else {
            return .rejected(
                .nodeIDCollision(
                    dekID: claim.dekID, node16: claim.node16, registeredFullNodeID: prior.fullNodeID,
                    claimingFullNodeID: claim.fullNodeID))
        }
        guard claim.localEpoch > prior.lastSeenLocalEpoch else {
            return .rejected(
                .localEpochRollback(
                    dekID: claim.dekID, fullNodeID: claim.fullNodeID, lastSeenLocalEpoch: prior.lastSeenLocalEpoch,
                    claimedLocalEpoch: claim.localEpoch))
        }
        return .accepted
    }

    /// The confirmation that ``WriterRegistry/plan(_:existing:)`` implies for the same inputs: a claim plan
    /// leaves unchanged is a replay, so it is rejected rather than accepted.
    static func planned(claim: WriterRegistration, prior: WriterRegistryRow?) -> WriterRegistry.Confirmation {
        let existing = prior.map { [claim.registryKey: $0] } ?? [:]
        do {
            let changed = try WriterRegistry.plan([claim], existing: existing)
            guard changed[claim.registryKey] == nil else { return .accepted }
            return .rejected(
                .localEpochRollback(
                    dekID: claim.dekID, fullNodeID: claim.fullNodeID, lastSeenLocalEpoch: claim.localEpoch,
                    claimedLocalEpoch: claim.localEpoch))
        } catch {
            return .rejected(error)
        }
    }

    static let epochs: [UInt16] = [0, 1, 2, 3]

    /// No row, and a row of each node for every first ≤ last over the small epochs: for any claim epoch the
    /// last epoch is lower, equal or higher, owned by the same node or another.
    static var priorRows: [WriterRegistryRow?] {
        var rows: [WriterRegistryRow?] = [nil]
        for owner in [me, intruder] {
            for first in epochs {
                for last in epochs where first <= last { rows.append(row(owner, first: first, last: last)) }
            }
        }
        return rows
    }

    @Test("every claim over every prior row in stored rows agrees with the rules and with plan")
    func ruleTableOverStoredRows() {
        var checked = 0
        var outcomes: Set<String> = []
        for claimant in [Self.me, Self.intruder] {
            for epoch in Self.epochs {
                let claim = Self.registration(claimant, epoch: epoch)
                for prior in Self.priorRows {
                    let rows = prior.map { [claim.registryKey: $0] } ?? [:]
                    let actual = WriterRegistry.confirmation(of: [claim], rows: rows, committed: [[claim]])
                    let context = "claim \(claim) prior \(String(describing: prior))"
                    #expect(actual == Self.expected(claim: claim, prior: prior), "\(context)")
                    #expect(actual == Self.planned(claim: claim, prior: prior), "\(context)")
                    outcomes.insert(Self.kind(actual))
                    checked += 1
                }
            }
        }
        #expect(checked == 2 * 4 * 21)
        #expect(outcomes == ["accepted", "rollback", "replay", "collision"])
    }

    @Test("every claim over every prior row made by an earlier committed batch agrees with stored rows")
    func ruleTableOverEarlierBatches() {
        var checked = 0
        for claimant in [Self.me, Self.intruder] {
            for epoch in Self.epochs {
                let claim = Self.registration(claimant, epoch: epoch)
                for prior in Self.priorRows {
                    // The prior row is reached by an insert at `first` and, when later, an advance to `last`.
                    var earlier: [[WriterRegistration]] = []
                    if let prior {
                        earlier.append([Self.registration(prior.fullNodeID, epoch: prior.firstSeenLocalEpoch)])
                        if prior.lastSeenLocalEpoch > prior.firstSeenLocalEpoch {
                            earlier.append([Self.registration(prior.fullNodeID, epoch: prior.lastSeenLocalEpoch)])
                        }
                    }
                    let actual = WriterRegistry.confirmation(of: [claim], rows: [:], committed: earlier + [[claim]])
                    // A claim identical to an earlier batch is decided at that earlier copy, which inserted or
                    // advanced the row, so it is accepted; the later copy that replays it changes nothing.
                    let expected =
                        earlier.contains([claim]) ? .accepted : Self.expected(claim: claim, prior: prior)
                    #expect(actual == expected, "claim \(claim) prior \(String(describing: prior))")
                    checked += 1
                }
            }
        }
        #expect(checked == 2 * 4 * 21)
    }

    static func kind(_ confirmation: WriterRegistry.Confirmation?) -> String {
        switch confirmation {
        case .accepted?: return "accepted"
        case .rejected(.localEpochRollback(_, _, let last, let claimed))? where last == claimed: return "replay"
        case .rejected(.localEpochRollback)?: return "rollback"
        case .rejected(.nodeIDCollision)?: return "collision"
        case nil: return "undecided"
        }
    }
}
