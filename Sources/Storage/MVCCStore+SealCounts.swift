/// How many values each DEK sealed on this replica, kept with the data.
///
/// Every sealed version a transaction writes, and every raft envelope the state machine opens (reported with
/// ``WriteTransaction/recordSeals(under:count:)``), adds one to the count of its key id; the counts commit in
/// the same transaction as the rows, so after a crash they match the data exactly, and snapshots carry them.
/// Replicas apply the same entries, so they hold the same counts: the leader's automatic rotation reads them
/// to bound the seals under a key cluster-wide.
extension MVCCStore {
    /// The prefix of the `internal_meta` rows holding the counts: the name ends in the decimal key id.
    public static let sealCountMetaPrefix = "encryption.seals."

    /// The seal count of every key id that sealed anything on this replica, as last committed.
    ///
    /// - Throws: the store's error, or ``StorageError/corruptRecord(reason:)`` for a malformed row.
    public func sealCounts() throws(StorageError) -> [UInt32: UInt64] {
        var counts: [UInt32: UInt64] = [:]
        for (name, value) in try metaEntries(withPrefix: Self.sealCountMetaPrefix) {
            guard let keyID = UInt32(name.dropFirst(Self.sealCountMetaPrefix.count)) else {
                throw StorageError.corruptRecord(reason: "seal count row '\(name)' does not name a key id")
            }
            counts[keyID] = try Self.decodeUInt64(value)
        }
        return counts
    }

    /// The key id of a record's storage envelope, or `nil` for a cleartext record.
    static func sealingKeyID(ofRecord record: [UInt8]) -> UInt32? {
        guard record.count >= ValueHeader.byteCount + 6, (record[0] >> 1) & 0b11 == 0b01 else { return nil }
        let start = ValueHeader.byteCount + 2
        return UInt32(bigEndianBytes: record[start..<start + 4])
    }
}

/// The seals one write transaction performed, added to the stored counts when it commits.
final class SealTally {
    var counts: [UInt32: UInt64] = [:]

    func add(_ count: UInt64, under keyID: UInt32) {
        counts[keyID, default: 0] &+= count
    }
}

extension WriteTransaction {
    /// Counts `count` seals under `keyID` that this transaction's effects rest on but that wrote no row of
    /// their own here (the raft envelopes of the entries it applies).
    public func recordSeals(under keyID: UInt32, count: UInt64 = 1) {
        sealTally.add(count, under: keyID)
    }

    /// Removes the seal count of a key that no longer exists (after its retirement).
    public func removeSealCount(of keyID: UInt32) throws(StorageError) {
        try store.runStepHook("delete meta")
        let statement = try database.statement("DELETE FROM internal_meta WHERE name = ?1")
        try statement.bind(1, MVCCStore.sealCountMetaPrefix + String(keyID))
        try statement.run()
        sealTally.counts[keyID] = nil
    }

    /// Adds this transaction's seals to the stored counts; called once, just before COMMIT.
    func flushSealCounts() throws(StorageError) {
        for (keyID, added) in sealTally.counts.sorted(by: { $0.key < $1.key }) where added > 0 {
            let name = MVCCStore.sealCountMetaPrefix + String(keyID)
            let stored = try meta(name).map { (bytes) throws(StorageError) in try MVCCStore.decodeUInt64(bytes) } ?? 0
            try setMeta(name, value: MVCCStore.encodeUInt64(stored &+ added))
        }
        sealTally.counts = [:]
    }
}
