import Storage

/// Where scripts (SCRIPT LOAD, EVAL's cache) and function libraries (FUNCTION LOAD) live: `kv_versions` rows
/// outside every database, so FLUSHALL, SCAN and DBSIZE never see them, and sealed like any value once the
/// storage envelope is on (docs/formats.md §2a).
///
/// ```
/// script row    0x02 ‖ 0x00 ‖ sha1 (40 lower-case hex digits)   body: the script's source
/// library row   0x02 ‖ 0x01 ‖ library name                      body: the library's source
/// ACL user row  0x02 ‖ 0x02 ‖ user name                         body: the user's rules (``ACLUserRecord``)
/// ```
public enum ScriptRows {
    static let tag: UInt8 = 0x02
    static let scriptKind: UInt8 = 0x00
    static let libraryKind: UInt8 = 0x01
    static let aclUserKind: UInt8 = 0x02

    /// The row of ACL user `name`.
    public static func aclUser(_ name: [UInt8]) -> [UInt8] { [tag, aclUserKind] + name }
    public static let aclUsersStart: [UInt8] = [tag, aclUserKind]
    public static let aclUsersEnd: [UInt8] = [tag, aclUserKind + 1]

    /// The row of the script whose SHA1 is `sha` (lower-case hex).
    public static func script(_ sha: [UInt8]) -> [UInt8] { [tag, scriptKind] + sha }
    /// The row of function library `name`.
    public static func library(_ name: [UInt8]) -> [UInt8] { [tag, libraryKind] + name }

    public static let scriptsStart: [UInt8] = [tag, scriptKind]
    public static let scriptsEnd: [UInt8] = [tag, scriptKind + 1]
    public static let librariesStart: [UInt8] = [tag, libraryKind]
    public static let librariesEnd: [UInt8] = [tag, libraryKind + 1]

    /// The name part of a script or library row.
    public static func name(of row: [UInt8]) -> [UInt8] { Array(row.dropFirst(2)) }
}

/// Reading script and library rows, from the store as applied (``KVReader``) or inside an entry being
/// applied (``TransactionContext``).
public protocol ScriptRowReader {
    /// The body of a live script or library row.
    func scriptRow(_ row: [UInt8]) throws(StorageError) -> [UInt8]?
    /// Live rows in `[start, end)`, in key order, at most `limit`.
    func scriptRows(from start: [UInt8], to end: [UInt8], limit: Int) throws(StorageError) -> [(row: [UInt8], body: [UInt8])]
}

extension ScriptRowReader {
    /// Every live row in `[start, end)`, read in batches.
    public func allScriptRows(from start: [UInt8], to end: [UInt8]) throws(StorageError) -> [(row: [UInt8], body: [UInt8])] {
        var rows: [(row: [UInt8], body: [UInt8])] = []
        var from = start
        while true {
            let batch = try scriptRows(from: from, to: end, limit: 1_000)
            rows += batch
            guard batch.count == 1_000, let last = batch.last else { return rows }
            from = last.row + [0]
        }
    }
}

extension KVReader: ScriptRowReader {
    public func scriptRow(_ row: [UInt8]) throws(StorageError) -> [UInt8]? {
        try store.get(row, nowMillis: 0)?.body
    }

    public func scriptRows(from start: [UInt8], to end: [UInt8], limit: Int) throws(StorageError)
        -> [(row: [UInt8], body: [UInt8])]
    {
        try store.scan(from: start, to: end, nowMillis: 0, limit: limit).map { ($0.key, $0.body) }
    }
}

extension TransactionContext: ScriptRowReader {
    public func scriptRow(_ row: [UInt8]) throws(StorageError) -> [UInt8]? {
        guard let version = try transaction.latestVersion(of: row), !version.isTombstone else { return nil }
        return version.body
    }

    public func scriptRows(from start: [UInt8], to end: [UInt8], limit: Int) throws(StorageError)
        -> [(row: [UInt8], body: [UInt8])]
    {
        try transaction.scan(from: start, to: end, nowMillis: 0, limit: limit).map { ($0.key, $0.body) }
    }

    /// Writes a script or library row with the entry's next commit timestamp.
    public mutating func putScriptRow(_ row: [UInt8], body: [UInt8]) throws(StateMachineHalt) {
        let ts = try apply.nextCommitTS(proposed: proposedTS, index: index)
        do throws(StorageError) { try transaction.put(StoredVersion(key: row, commitTS: ts, body: body)) } catch {
            throw StateMachineHalt(index: index, cause: .storage(error))
        }
    }

    /// Deletes a script or library row (a tombstone, collected like any other).
    public mutating func deleteScriptRow(_ row: [UInt8]) throws(StateMachineHalt) {
        let ts = try apply.nextCommitTS(proposed: proposedTS, index: index)
        do throws(StorageError) { try transaction.put(StoredVersion(key: row, commitTS: ts, isTombstone: true)) } catch {
            throw StateMachineHalt(index: index, cause: .storage(error))
        }
    }
}
