import CLua
import KV
import RESP
import Storage

/// How a script's `redis.call` reaches the data: a transaction entry being applied (writes allowed) or the
/// store as last applied (read-only scripts).
protocol ScriptDataAccess {
    associatedtype View: KeyValueView
    var view: View { get }
    var nowMillis: UInt64 { get }
    /// Runs a write; nil when the run must abort (``failure`` says why).
    mutating func write(_ request: RedisRequest) -> RESPValue?
    /// SELECT inside the script.
    mutating func select(_ database: UInt8)
    /// Records a storage failure of a read; the run aborts.
    mutating func readFailed(_ error: StorageError)
    var failure: (any Error)? { get }
    /// Whether EVAL stores its script (only when applied: a read changes nothing).
    var cachesScripts: Bool { get }
    mutating func putScriptRow(_ row: [UInt8], body: [UInt8]) throws(ScriptFailure)
}

/// Runs scripts and functions and the SCRIPT / FUNCTION commands (``ScriptCommand``) with Redis's semantics.
///
/// A replicated call runs during apply, on every replica, against the entry's ``TransactionContext``: the
/// interpreter is fresh for each run, seeded from the entry, and stopped by deterministic limits (memory,
/// VM instructions), so every replica reaches the same state — including the partial effects of a script
/// that fails midway, as in Redis. A read-only call runs on the node that received it.
public struct ScriptEngine: Sendable {
    let parser: RedisCommandParser
    let cursors: ScanCursors
    var limits = LuaSandbox.Limits.standard
    /// This node's running read-only scripts (SCRIPT KILL); nil during apply.
    let running: RunningScripts?

    public init(parser: RedisCommandParser, cursors: ScanCursors, running: RunningScripts? = nil) {
        self.parser = parser
        self.cursors = cursors
        self.running = running
    }

    static let compileErrorPrefix = "ERR Error compiling script (new function): "
    static let noScript = RESPValue.error("NOSCRIPT No matching script. Please use EVAL.")
    static let notAllowed = "ERR This Redis command is not allowed from script"
    static let readOnlyWrite = "ERR Write commands are not allowed from read-only scripts."
    static let writeFlagWithRO = RESPValue.error("ERR Can not execute a script with write flag using *_ro command.")

    // MARK: - Apply (replicated)

    /// Applies a replicated script command inside a transaction entry.
    public func apply(_ command: ScriptCommand, in context: inout TransactionContext) throws(StateMachineHalt) -> RESPValue {
        do throws(ScriptFailure) {
            switch command {
            case .run(let call):
                var access = ApplyAccess(context: context, parser: parser)
                defer { context = access.context }
                let seed = UInt32(truncatingIfNeeded: context.index &* 2_654_435_761 ^ context.nowMillis)
                return try run(call, access: &access, seed: seed)
            case .load(let body):
                if let message = compileError(body, chunkName: "@user_script") {
                    return .error(Self.compileErrorPrefix + message)
                }
                let sha = ScriptDigest.sha1Hex(body)
                try context.putRow(ScriptRows.script(Array(sha.utf8)), body: body)
                return .bulk(sha)
            case .flush:
                for (row, _) in try storage { () throws(StorageError) in
                    try context.allScriptRows(from: ScriptRows.scriptsStart, to: ScriptRows.scriptsEnd)
                } {
                    try context.deleteRow(row)
                }
                return .ok
            case .functionLoad(let code, let replace):
                return try loadLibrary(code, replace: replace, in: &context)
            case .functionDelete(let name):
                guard try storage({ () throws(StorageError) in try context.scriptRow(ScriptRows.library(name)) }) != nil else {
                    return .error("ERR Library not found")
                }
                try context.deleteRow(ScriptRows.library(name))
                return .ok
            case .functionFlush:
                try flushLibraries(in: &context)
                return .ok
            case .functionRestore(let payload, let policy):
                return try restore(payload, policy: policy, in: &context)
            case .exists, .kill, .functionList, .functionDump, .functionStats:
                let view = context
                return try storage { () throws(StorageError) in try read(command, view: view, nowMillis: view.nowMillis) }
            }
        } catch {
            switch error {
            case .halt(let halt): throw halt
            case .storage(let storage): throw StateMachineHalt(index: context.index, cause: .storage(storage))
            }
        }
    }

    // MARK: - Reads (this node)

    /// Answers a script command that does not change replicated state, from `view`.
    public func read<View: KeyValueView>(_ command: ScriptCommand, view: View, nowMillis: UInt64) throws(StorageError)
        -> RESPValue
    {
        do throws(ScriptFailure) {
            switch command {
            case .run(let call):
                var access = ReadAccess(view: view, nowMillis: nowMillis)
                return try run(call, access: &access, seed: UInt32(truncatingIfNeeded: nowMillis))
            case .exists(let shas):
                return .array(try shas.map { (sha) throws(ScriptFailure) in
                    .integer(try storage { () throws(StorageError) in try view.scriptRow(ScriptRows.script(sha)) } == nil ? 0 : 1)
                })
            case .kill:
                return running?.kill() ?? .error("NOTBUSY No scripts in execution right now.")
            case .functionList(let pattern, let withCode):
                return .array(try libraries(view).compactMap { (name, record) in
                    if let pattern, !GlobPattern.matches(pattern, Array(name.utf8)) { return nil }
                    return Self.listing(name: name, record: record, withCode: withCode)
                })
            case .functionDump:
                return .bulkString(FunctionDump.encode(try libraries(view).map(\.record.code)))
            case .functionStats:
                let all = try libraries(view)
                return .map([
                    RESPValue.Pair(.bulk("running_script"), running?.current ?? .null),
                    RESPValue.Pair(.bulk("engines"), .map([
                        RESPValue.Pair(.bulk("LUA"), .map([
                            RESPValue.Pair(.bulk("libraries_count"), .integer(Int64(all.count))),
                            RESPValue.Pair(.bulk("functions_count"), .integer(Int64(all.reduce(0) { $0 + $1.record.functions.count }))),
                        ])),
                    ])),
                ])
            case .load, .flush, .functionLoad, .functionDelete, .functionFlush, .functionRestore:
                return .error("ERR this command changes replicated state and cannot be served as a read")
            }
        } catch {
            switch error {
            case .storage(let storage): throw storage
            case .halt(let halt): throw StorageError.corruptRecord(reason: halt.description)
            }
        }
    }

    // MARK: - Running a script or a function

    private func run<Access: ScriptDataAccess>(_ call: ScriptCall, access: inout Access, seed: UInt32)
        throws(ScriptFailure) -> RESPValue
    {
        let view = access.view
        switch call.target {
        case .body(let body):
            let sha = ScriptDigest.sha1Hex(body)
            let reply = try evaluate(body: body, sha: sha, call: call, access: &access, seed: seed)
            if access.cachesScripts {
                // EVAL caches its script, so EVALSHA finds it afterwards (as SCRIPT LOAD would).
                let row = ScriptRows.script(Array(sha.utf8))
                if try storage({ () throws(StorageError) in try access.view.scriptRow(row) }) == nil,
                   compileError(body, chunkName: "@user_script") == nil {
                    try access.putScriptRow(row, body: body)
                }
            }
            return reply
        case .sha(let sha):
            guard let body = try storage({ () throws(StorageError) in try view.scriptRow(ScriptRows.script(sha)) }) else {
                return Self.noScript
            }
            return try evaluate(body: body, sha: String(decoding: sha, as: UTF8.self), call: call, access: &access, seed: seed)
        case .function(let name):
            let wanted = Self.lowercased(name)
            for (_, record) in try libraries(view) {
                guard let function = record.functions.first(where: { Self.lowercased($0.name) == wanted }) else { continue }
                if let keysError = call.keysError { return .error(keysError) }
                if call.readOnly, function.flags & FunctionLibraryRecord.Flags.noWrites == 0 { return Self.writeFlagWithRO }
                let readOnly = call.readOnly || function.flags & FunctionLibraryRecord.Flags.noWrites != 0
                return try callFunction(String(decoding: function.name, as: UTF8.self), in: record.code, call: call,
                                        readOnly: readOnly, access: &access, seed: seed)
            }
            return .error("ERR Function not found")
        }
    }

    private func evaluate<Access: ScriptDataAccess>(body: [UInt8], sha: String, call: ScriptCall, access: inout Access,
                                                    seed: UInt32) throws(ScriptFailure) -> RESPValue
    {
        guard let sandbox = LuaSandbox(limits: limits, seed: seed) else { return .error("ERR could not start a Lua interpreter") }
        let (source, flags) = Self.shebang(body)
        if let flags, let refusal = flags.refusal { return .error(refusal) }
        // A script with a shebang declares its flags: without no-writes it is a write script, which the _RO
        // commands refuse before running it.
        if let flags, call.readOnly, !flags.noWrites { return Self.writeFlagWithRO }
        if let message = sandbox.load(source, chunkName: "@user_script") {
            return .error(Self.compileErrorPrefix + message)
        }
        sandbox.setGlobalArray("KEYS", call.keys)
        sandbox.setGlobalArray("ARGV", call.arguments)
        let readOnly = call.readOnly || (flags?.noWrites ?? false)
        return try protectedRun(sandbox, arguments: 0, label: sha, readOnly: readOnly, access: &access)
    }

    /// Runs the function on the sandbox's stack with the host wired to `access`, and converts its result or
    /// its error as Redis does.
    private func protectedRun<Access: ScriptDataAccess>(_ sandbox: LuaSandbox, arguments: Int32, label: String,
                                                        readOnly: Bool, access: inout Access) throws(ScriptFailure)
        -> RESPValue
    {
        let token = running?.start(sandbox, label: label)
        defer { if let token { running?.finish(token) } }
        let raised: LuaSandbox.RaisedError? = withUnsafeMutablePointer(to: &access) { pointer in
            sandbox.onCall = { arguments, _ in
                Self.command(arguments, parser: parser, cursors: cursors, readOnly: readOnly, access: &pointer.pointee)
            }
            sandbox.knowsCommand = { RedisCommandParser.commandNameSet.contains(String(decoding: $0, as: UTF8.self).lowercased()) }
            defer { sandbox.onCall = nil }
            return sandbox.protectedCall(arguments: arguments)
        }
        if let failure = access.failure {
            if let halt = failure as? StateMachineHalt { throw .halt(halt) }
            if let storage = failure as? StorageError { throw .storage(storage) }
        }
        guard let raised else {
            defer { sandbox.pop(1) }
            return sandbox.reply(at: -1)
        }
        return .error(Self.message(raised, label: label, stopped: sandbox.stopReason))
    }

    /// The error line of a script that raised: `ERR ` before a string error (not before an error table's
    /// `err`), then where it happened.
    static func message(_ raised: LuaSandbox.RaisedError, label: String, stopped: Int32) -> String {
        let text: String
        switch stopped {
        case 1: text = "ERR Script exceeded the instruction budget"
        case 2: text = "ERR Script killed by user with SCRIPT KILL..."
        default: text = raised.value.line
        }
        let source = raised.source.isEmpty ? "@user_script" : raised.source
        return "\(text) script: \(label), on \(source):\(raised.line)."
    }

    /// One `redis.call` / `redis.pcall`: the reply (errors included), or nil when the run must abort.
    static func command<Access: ScriptDataAccess>(_ arguments: [[UInt8]], parser: RedisCommandParser, cursors: ScanCursors,
                                                  readOnly: Bool, access: inout Access) -> RESPValue?
    {
        let request = parser.parse(arguments, nowMillis: access.nowMillis)
        switch request {
        case .reply(.error(let message)) where message.hasPrefix("ERR unknown command"):
            return .error("ERR Unknown Redis command called from script")
        case .reply(.error(let message)) where message.hasPrefix("ERR wrong number of arguments")
            && !RedisCommandParser.arityAccepts(arguments):
            return .error("ERR Wrong number of args calling Redis command from script")
        case .reply(let value):
            return value
        case .write:
            if readOnly { return .error(readOnlyWrite) }
            return access.write(request)
        case .read(let read):
            do throws(StorageError) {
                return try ReadEvaluator(reader: access.view, cursors: cursors).evaluate(read, nowMillis: access.nowMillis)
            } catch {
                access.readFailed(error)
                return nil
            }
        case .connection(.select(let index)):
            guard (0..<Int64(RedisKeyspace.databaseCount)).contains(index) else { return .error("ERR DB index is out of range") }
            access.select(UInt8(index))
            return .ok
        case .connection(.ping(let message)):
            return message.map { .bulkString($0) } ?? .simpleString("PONG")
        case .connection(.echo(let message)):
            return .bulkString(message)
        case .connection(.time):
            let now = access.nowMillis
            return .array([.bulk(String(now / 1000)), .bulk(String(now % 1000 * 1000))])
        case .blockingRead:
            return .error("ERR \(String(decoding: arguments[0], as: UTF8.self).lowercased()) command is not allowed with BLOCK option from scripts")
        case .connection, .transaction, .pubSub, .blocking, .script, .server, .acl:
            return .error(notAllowed)
        }
    }

    /// Whether `code` compiles; the compiler's message when it does not.
    func compileError(_ code: [UInt8], chunkName: String) -> String? {
        guard let sandbox = LuaSandbox(limits: limits, seed: 0) else { return "could not start a Lua interpreter" }
        let (source, _) = Self.shebang(code)
        return sandbox.load(source, chunkName: chunkName)
    }

    // MARK: - Functions

    /// The function libraries in name order.
    func libraries<View: ScriptRowReader>(_ view: View) throws(ScriptFailure) -> [(name: String, record: FunctionLibraryRecord)] {
        try storage { () throws(StorageError) in
            try view.allScriptRows(from: ScriptRows.librariesStart, to: ScriptRows.librariesEnd)
        }.map { (row, body) throws(ScriptFailure) in
            do throws(KVError) {
                return (String(decoding: ScriptRows.name(of: row), as: UTF8.self), try FunctionLibraryRecord(decoding: body))
            } catch {
                throw .storage(.corruptRecord(reason: error.description))
            }
        }
    }

    private func loadLibrary(_ code: [UInt8], replace: Bool, in context: inout TransactionContext) throws(ScriptFailure)
        -> RESPValue
    {
        let name: [UInt8]
        switch FunctionLibraryLoader.metadata(code) {
        case .failure(let refusal): return .error(refusal.message)
        case .success(let parsed): name = parsed
        }
        let existing = try libraries(context)
        if !replace, existing.contains(where: { $0.name == String(decoding: name, as: UTF8.self) }) {
            return .error("ERR Library '\(String(decoding: name, as: UTF8.self))' already exists")
        }
        let functions: [FunctionLibraryRecord.Function]
        switch FunctionLibraryLoader(limits: limits).load(code) {
        case .failure(let refusal): return .error(refusal.message)
        case .success(let loaded): functions = loaded.functions
        }
        for (other, record) in existing where other != String(decoding: name, as: UTF8.self) {
            for function in functions where record.functions.contains(where: { Self.lowercased($0.name) == Self.lowercased(function.name) }) {
                return .error("ERR Function \(String(decoding: function.name, as: UTF8.self)) already exists")
            }
        }
        try context.putRow(ScriptRows.library(name), body: FunctionLibraryRecord(code: code, functions: functions).encoded())
        return .bulkString(name)
    }

    private func flushLibraries(in context: inout TransactionContext) throws(ScriptFailure) {
        for (row, _) in try storage({ () throws(StorageError) in
            try context.allScriptRows(from: ScriptRows.librariesStart, to: ScriptRows.librariesEnd)
        }) {
            try context.deleteRow(row)
        }
    }

    private func restore(_ payload: [UInt8], policy: FunctionRestorePolicy, in context: inout TransactionContext)
        throws(ScriptFailure) -> RESPValue
    {
        guard let codes = FunctionDump.decode(payload) else { return .error("ERR DUMP payload version or checksum are wrong") }
        // Validate every library before changing anything, so a refused RESTORE leaves the libraries as they were.
        var loaded: [(name: [UInt8], record: FunctionLibraryRecord)] = []
        let loader = FunctionLibraryLoader(limits: limits)
        for code in codes {
            guard case .success(let name) = FunctionLibraryLoader.metadata(code) else {
                return .error("ERR DUMP payload version or checksum are wrong")
            }
            switch loader.load(code) {
            case .failure(let refusal): return .error(refusal.message)
            case .success(let library): loaded.append((name, FunctionLibraryRecord(code: code, functions: library.functions)))
            }
        }
        let existing = policy == .flush ? [] : try libraries(context)
        var taken: Set<[UInt8]> = []
        for (name, record) in existing where policy != .replace || !loaded.contains(where: { $0.name == Array(name.utf8) }) {
            if policy == .append, loaded.contains(where: { $0.name == Array(name.utf8) }) {
                return .error("ERR Library \(name) already exists")
            }
            for function in record.functions { taken.insert(Self.lowercased(function.name)) }
        }
        for (_, record) in loaded {
            for function in record.functions where taken.contains(Self.lowercased(function.name)) {
                return .error("ERR Function \(String(decoding: function.name, as: UTF8.self)) already exists")
            }
        }
        if policy == .flush { try flushLibraries(in: &context) }
        for (name, record) in loaded { try context.putRow(ScriptRows.library(name), body: record.encoded()) }
        return .ok
    }

    private func callFunction<Access: ScriptDataAccess>(_ name: String, in code: [UInt8], call: ScriptCall, readOnly: Bool,
                                                        access: inout Access, seed: UInt32) throws(ScriptFailure)
        -> RESPValue
    {
        guard let sandbox = LuaSandbox(limits: limits, seed: seed) else { return .error("ERR could not start a Lua interpreter") }
        let loader = FunctionLibraryLoader(limits: limits)
        switch loader.load(code, into: sandbox) {
        case .failure(let refusal): return .error(refusal.message)
        case .success: break
        }
        guard loader.pushCallback(named: name, in: sandbox) else { return .error("ERR Function not found") }
        sandbox.pushArray(call.keys)
        sandbox.pushArray(call.arguments)
        return try protectedRun(sandbox, arguments: 2, label: name, readOnly: readOnly, access: &access)
    }

    static func listing(name: String, record: FunctionLibraryRecord, withCode: Bool) -> RESPValue {
        var fields: [RESPValue] = [
            .bulk("library_name"), .bulk(name), .bulk("engine"), .bulk("LUA"), .bulk("functions"),
            .array(record.functions.map { function in
                .array([
                    .bulk("name"), .bulkString(function.name),
                    .bulk("description"), function.description.map { .bulkString($0) } ?? .null,
                    .bulk("flags"), .set(FunctionLibraryRecord.Flags.names.filter { function.flags & $0.bit != 0 }
                        .map { .simpleString($0.name) }),
                ])
            }),
        ]
        if withCode { fields += [.bulk("library_code"), .bulkString(record.code)] }
        return .array(fields)
    }

    static func lowercased(_ bytes: [UInt8]) -> [UInt8] { ScriptDigest.normalized(bytes) }

    // MARK: - EVAL's shebang

    struct ShebangFlags {
        var noWrites = false
        var refusal: String?
    }

    /// A script's source without its `#!lua flags=…` line (kept as an empty line, so line numbers hold), and
    /// the flags; no flags for a script without a shebang.
    static func shebang(_ body: [UInt8]) -> (source: [UInt8], flags: ShebangFlags?) {
        guard body.starts(with: Array("#!".utf8)) else { return (body, nil) }
        guard let end = body.firstIndex(of: 0x0A) else {
            return (body, ShebangFlags(refusal: "ERR Invalid script shebang"))
        }
        let line = String(decoding: body[2..<end], as: UTF8.self)
        var flags = ShebangFlags()
        var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let engine = words.isEmpty ? "" : words.removeFirst()
        if engine != "lua" {
            flags.refusal = "ERR Unexpected engine in script shebang: #!\(engine)"
        }
        for word in words where flags.refusal == nil {
            guard word.hasPrefix("flags=") else {
                flags.refusal = "ERR Unknown lua shebang option: \(word)"
                break
            }
            for flag in word.dropFirst("flags=".count).split(separator: ",") {
                if flag == "no-writes" { flags.noWrites = true } else if
                    !FunctionLibraryRecord.Flags.names.contains(where: { $0.name == flag }) {
                    flags.refusal = "ERR Unexpected flag in script shebang: \(flag)"
                }
            }
        }
        return (Array(body[end...]), flags)
    }
}

/// Why a script command stopped without a reply: the entry must halt, or the store failed.
enum ScriptFailure: Error {
    case halt(StateMachineHalt)
    case storage(StorageError)
}

func storage<Result>(_ body: () throws(StorageError) -> Result) throws(ScriptFailure) -> Result {
    do throws(StorageError) { return try body() } catch { throw .storage(error) }
}

extension TransactionContext {
    fileprivate mutating func putRow(_ row: [UInt8], body: [UInt8]) throws(ScriptFailure) {
        do throws(StateMachineHalt) { try putScriptRow(row, body: body) } catch { throw .halt(error) }
    }

    fileprivate mutating func deleteRow(_ row: [UInt8]) throws(ScriptFailure) {
        do throws(StateMachineHalt) { try deleteScriptRow(row) } catch { throw .halt(error) }
    }
}

/// A script run inside an entry being applied: writes through the entry's context.
struct ApplyAccess: ScriptDataAccess {
    var context: TransactionContext
    let parser: RedisCommandParser
    var failure: (any Error)?

    init(context: TransactionContext, parser: RedisCommandParser) {
        self.context = context
        self.parser = parser
    }

    var view: TransactionContext { context }
    var nowMillis: UInt64 { context.nowMillis }

    mutating func write(_ request: RedisRequest) -> RESPValue? {
        guard case .write(let command, let shape) = request else { return .error(ScriptEngine.notAllowed) }
        do throws(StateMachineHalt) { return shape.render(try context.execute(command)) } catch {
            failure = error
            return nil
        }
    }

    mutating func select(_ database: UInt8) { context.select(database) }
    mutating func readFailed(_ error: StorageError) {
        failure = StateMachineHalt(index: context.index, cause: .storage(error))
    }
    var cachesScripts: Bool { true }

    mutating func putScriptRow(_ row: [UInt8], body: [UInt8]) throws(ScriptFailure) {
        try context.putRow(row, body: body)
    }
}

/// A read-only script on this node: every write is refused before it gets here.
struct ReadAccess<View: KeyValueView>: ScriptDataAccess {
    var view: View
    let nowMillis: UInt64
    var failure: (any Error)?

    init(view: View, nowMillis: UInt64) {
        self.view = view
        self.nowMillis = nowMillis
    }

    mutating func write(_ request: RedisRequest) -> RESPValue? { .error(ScriptEngine.readOnlyWrite) }
    mutating func select(_ database: UInt8) { view = view.inDatabase(database) }
    mutating func readFailed(_ error: StorageError) { failure = error }
    var cachesScripts: Bool { false }
    mutating func putScriptRow(_ row: [UInt8], body: [UInt8]) throws(ScriptFailure) {}
}
