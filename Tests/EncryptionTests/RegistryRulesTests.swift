import Encryption
import Testing

@Suite("Writer registry rules")
struct RegistryRulesTests {
    static let node: UInt64 = 0x1234_5678_9ABC_0042
    static let (owner, intruder) = collidingFullNodeIDs

    static func registration(_ full: UInt64 = node, epoch: UInt16, dek: KeyID = 7) -> WriterRegistration {
        WriterRegistration(dekID: dek, fullNodeID: full, localEpoch: epoch)
    }

    static func row(_ full: UInt64 = node, first: UInt16, last: UInt16) -> WriterRegistryRow {
        WriterRegistryRow(fullNodeID: full, firstSeenLocalEpoch: first, lastSeenLocalEpoch: last)
    }

    @Test("rule 1: no row inserts first = last = epoch")
    func insert() throws {
        #expect(
            try WriterRegistry.decide(Self.registration(epoch: 4), existing: nil)
                == .insert(Self.row(first: 4, last: 4)))
    }

    @Test("rule 2: another full id under the same node16 collides")
    func collision() {
        #expect(Self.registration(Self.owner, epoch: 0).node16 == Self.registration(Self.intruder, epoch: 0).node16)
        #expect(
            throws: WriterRegistryError.nodeIDCollision(
                dekID: 7, node16: 5, registeredFullNodeID: Self.owner,
                claimingFullNodeID: Self.intruder)
        ) {
            try WriterRegistry.decide(
                Self.registration(Self.intruder, epoch: 3), existing: Self.row(Self.owner, first: 0, last: 3))
        }
    }

    @Test("rule 3: the same epoch again changes nothing")
    func replay() throws {
        #expect(
            try WriterRegistry.decide(Self.registration(epoch: 3), existing: Self.row(first: 1, last: 3)) == .unchanged)
    }

    @Test("rule 4: an earlier epoch is a rollback")
    func rollback() {
        #expect(
            throws: WriterRegistryError.localEpochRollback(
                dekID: 7, fullNodeID: Self.node, lastSeenLocalEpoch: 3,
                claimedLocalEpoch: 2)
        ) {
            try WriterRegistry.decide(Self.registration(epoch: 2), existing: Self.row(first: 1, last: 3))
        }
    }

    @Test("rule 5: a later epoch advances last and keeps first")
    func advance() throws {
        #expect(
            try WriterRegistry.decide(Self.registration(epoch: 9), existing: Self.row(first: 1, last: 3))
                == .advance(Self.row(first: 1, last: 9)))
    }

    /// The rules restated as a table, independent of the implementation's control flow.
    static func expected(claim: UInt64, epoch: UInt16, row: WriterRegistryRow?) -> String {
        guard let row else { return "insert \(epoch)" }
        if row.fullNodeID != claim { return "collision" }
        if epoch == row.lastSeenLocalEpoch { return "unchanged" }
        return epoch < row.lastSeenLocalEpoch ? "rollback" : "advance \(row.firstSeenLocalEpoch)->\(epoch)"
    }

    @Test("every combination of claimant, epoch and row over a small domain follows the table")
    func exhaustive() {
        let epochs: [UInt16] = [0, 1, 2, 0xFFFE, 0xFFFF]
        var rows: [WriterRegistryRow?] = [nil]
        for full in [Self.owner, Self.intruder] {
            for first in epochs {
                for last in epochs where first <= last { rows.append(Self.row(full, first: first, last: last)) }
            }
        }
        var checked = 0
        for claim in [Self.owner, Self.intruder] {
            for epoch in epochs {
                for row in rows {
                    let actual: String
                    do {
                        switch try WriterRegistry.decide(Self.registration(claim, epoch: epoch), existing: row) {
                        case .insert(let inserted):
                            actual =
                                inserted == Self.row(claim, first: epoch, last: epoch)
                                ? "insert \(epoch)" : "bad insert"
                        case .unchanged: actual = "unchanged"
                        case .advance(let advanced):
                            actual =
                                advanced.fullNodeID == claim
                                ? "advance \(advanced.firstSeenLocalEpoch)->\(advanced.lastSeenLocalEpoch)"
                                : "bad advance"
                        }
                    } catch {
                        switch error {
                        case .nodeIDCollision: actual = "collision"
                        case .localEpochRollback: actual = "rollback"
                        }
                    }
                    #expect(
                        actual == Self.expected(claim: claim, epoch: epoch, row: row),
                        "claim \(claim) epoch \(epoch) row \(String(describing: row))")
                    checked += 1
                }
            }
        }
        #expect(checked == 2 * 5 * 31)
    }

    @Test("a batch sees its own earlier rows")
    func batchSequence() throws {
        let planned = try WriterRegistry.plan(
            [Self.registration(epoch: 1), Self.registration(epoch: 1), Self.registration(epoch: 4)], existing: [:])
        #expect(planned == [Self.registration(epoch: 0).registryKey: Self.row(first: 1, last: 4)])
        #expect(throws: WriterRegistryError.self) {
            try WriterRegistry.plan([Self.registration(epoch: 4), Self.registration(epoch: 1)], existing: [:])
        }
        #expect(throws: WriterRegistryError.self) {
            try WriterRegistry.plan(
                [Self.registration(Self.owner, epoch: 0), Self.registration(Self.intruder, epoch: 0)],
                existing: [:])
        }
    }

    @Test("a batch returns only changed rows and nothing when one registration is refused")
    func batchAllOrNothing() throws {
        let key7 = Self.registration(epoch: 0, dek: 7).registryKey
        let existing = [key7: Self.row(first: 0, last: 2)]
        let planned = try WriterRegistry.plan(
            [Self.registration(epoch: 2, dek: 7), Self.registration(epoch: 0, dek: 8)],
            existing: existing)
        #expect(planned == [Self.registration(epoch: 0, dek: 8).registryKey: Self.row(first: 0, last: 0)])
        #expect(throws: WriterRegistryError.self) {
            try WriterRegistry.plan(
                [Self.registration(epoch: 0, dek: 8), Self.registration(epoch: 1, dek: 7)], existing: existing)
        }
    }

    @Test("the in-memory store removes every row of a retired DEK and only those")
    func storeRetire() throws {
        let store = InMemoryWriterRegistryStore()
        for dek: KeyID in [7, 8] {
            for member in sidecarTestMembers {
                try store.setRow(
                    Self.row(member.fullNodeID, first: 0, last: 0),
                    for: WriterRegistryKey(dekID: dek, node16: member.node16))
            }
        }
        try store.removeRows(dekID: 7)
        #expect(store.allRows.count == 3)
        #expect(store.allRows.keys.allSatisfy { $0.dekID == 8 })
    }

    @Test("errors name the normative error and a remedy on one line")
    func descriptions() {
        let collision = WriterRegistryError.nodeIDCollision(
            dekID: 1, node16: 5, registeredFullNodeID: Self.owner,
            claimingFullNodeID: Self.intruder)
        let rollback = WriterRegistryError.localEpochRollback(
            dekID: 1, fullNodeID: 9, lastSeenLocalEpoch: 4, claimedLocalEpoch: 3)
        #expect(collision.description.hasPrefix("ErrNodeIDCollision:") && collision.description.contains("--node-id"))
        #expect(rollback.description.hasPrefix("ErrLocalEpochRollback:") && rollback.description.contains("keys.json"))
        #expect(!collision.description.contains("\n") && !rollback.description.contains("\n"))
    }
}
