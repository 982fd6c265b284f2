import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A thin owner of one SQLite connection.
///
/// Not thread-safe: one owner uses a connection at a time. It is `@unchecked Sendable` only so that the store
/// can hand connections between threads through its locks (the writer mutex and the reader pool); it is never
/// used by two threads at once. Statements are prepared once and cached by SQL text.
final class SQLiteDatabase: @unchecked Sendable {
    private(set) var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]
    let path: String

    /// Opens (creating when missing, mode 0600) the database file.
    ///
    /// SQLite would create the file with the process's umask (often 0644) and gives its `-wal` and `-shm`
    /// files the database file's mode, so the file is created here first, readable by its owner only.
    init(path: String, readOnly: Bool = false) throws(StorageError) {
        self.path = path
        if !readOnly { createOwnerOnlyFile(at: path) }
        var db: OpaquePointer?
        let flags = readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw StorageError.sqlite(code: code, message: message, context: "open database")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        close()
    }

    /// Finalises every statement and closes the connection. Idempotent.
    func close() {
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StorageError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw StorageError.sqlite(code: code, message: text, context: Self.firstWords(of: sql))
        }
    }

    /// The cached prepared statement for `sql`, reset and with its bindings cleared.
    func statement(_ sql: String) throws(StorageError) -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard code == SQLITE_OK, let raw else {
            throw error(code, context: "prepare " + Self.firstWords(of: sql))
        }
        let statement = SQLiteStatement(raw: raw, database: self, context: Self.firstWords(of: sql))
        statements[sql] = statement
        return statement
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    func error(_ code: Int32, context: String) -> StorageError {
        StorageError.sqlite(code: code, message: String(cString: sqlite3_errmsg(handle)), context: context)
    }

    private static func firstWords(of sql: String) -> String {
        String(sql.split(separator: " ", maxSplits: 4).prefix(4).joined(separator: " "))
    }
}

/// One prepared statement; bind, step, read columns.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let database: SQLiteDatabase
    let context: String

    init(raw: OpaquePointer, database: SQLiteDatabase, context: String) {
        self.raw = raw
        self.database = database
        self.context = context
    }

    deinit {
        sqlite3_finalize(raw)
    }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ index: Int32, _ value: Int64) throws(StorageError) {
        try check(sqlite3_bind_int64(raw, index, value))
    }

    func bind(_ index: Int32, _ bytes: [UInt8]) throws(StorageError) {
        let code = bytes.withUnsafeBytes { buffer in
            // A zero-length blob needs a non-nil pointer, or SQLite stores NULL.
            sqlite3_bind_blob64(raw, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                sqlite3_uint64(buffer.count), SQLiteStatement.transient)
        }
        try check(code)
    }

    func bind(_ index: Int32, _ text: String) throws(StorageError) {
        try check(sqlite3_bind_text(raw, index, text, -1, SQLiteStatement.transient))
    }

    /// Advances to the next row; `false` when the statement is done.
    func step() throws(StorageError) -> Bool {
        let code = sqlite3_step(raw)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            sqlite3_reset(raw)
            throw database.error(code, context: context)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws(StorageError) {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(raw, column)
    }

    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let pointer = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(raw, column) else { return "" }
        return String(cString: pointer)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(raw, column) == SQLITE_NULL
    }

    private func check(_ code: Int32) throws(StorageError) {
        guard code == SQLITE_OK else { throw database.error(code, context: "bind for " + context) }
    }

    private static let transient = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)
}

/// Creates `path` with mode 0600 when it does not exist; an existing file is left as it is.
private func createOwnerOnlyFile(at path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    if fd >= 0 { _ = close(fd) }
}
