import CLua
import LuaRuntime
import RESP

/// One sandboxed Lua 5.1 interpreter for one script run (see `LuaRuntime.h`), with Redis's conversions
/// between Lua values and replies both ways.
///
/// Not thread-safe: a run uses it from one thread, start to end; only ``kill()`` may be called from another.
/// Every call into Lua that can raise an error happens in C; this class only reads and pushes values.
final class LuaSandbox {
    /// Limits of one run. Both are counted deterministically (bytes Lua asks for, VM instructions), so every
    /// replica stops a script at the same point.
    struct Limits: Sendable {
        var memoryBytes: Int
        var instructions: UInt64

        /// 64 MiB and 100 million VM instructions (about a second of Lua on this machine kind).
        static let standard = Limits(memoryBytes: 64 << 20, instructions: 100_000_000)
    }

    /// What a host function answers: a number of Lua results pushed, an error value pushed (raised by the C
    /// side), or an abort (the host failed; ``LuaSandbox/abort`` holds why).
    enum HostAnswer {
        case results(Int32)
        case raise
        case abort
    }

    /// The host functions of the `redis` table; `nil` answers "not available here".
    var onCall: ((_ arguments: [[UInt8]], _ raising: Bool) -> RESPValue?)?
    var onRegisterFunction: ((LuaSandbox) -> HostAnswer)?
    var onLog: ((_ level: Int, _ message: [UInt8]) -> Void)?
    var knowsCommand: (([UInt8]) -> Bool)?
    /// Set by a host function that aborts the run (a storage failure during apply).
    var abort: (any Error)?

    /// The reply protocol `redis.call` converts from (`redis.setresp`).
    private(set) var respVersion = 2

    let scriptHandle: OpaquePointer
    let state: OpaquePointer

    /// - Parameter seed: math.random's seed (a replicated value, so every replica draws the same numbers).
    init?(limits: Limits, seed: UInt32) {
        let unmanaged = Unmanaged<HostBox>.passRetained(HostBox())
        guard let script = ekv_script_new(limits.memoryBytes, seed, luaHostCallback, unmanaged.toOpaque()) else {
            unmanaged.release()
            return nil
        }
        scriptHandle = script
        state = ekv_script_state(script)
        box = unmanaged
        unmanaged.takeUnretainedValue().sandbox = self
        ekv_script_set_budget(script, limits.instructions)
    }

    private let box: Unmanaged<HostBox>

    deinit {
        ekv_script_free(scriptHandle)
        box.release()
    }

    /// Asks the running script to stop (SCRIPT KILL); safe from any thread.
    func kill() { ekv_script_kill(scriptHandle) }

    /// Why the run stopped early: the budget ran out (1), a kill (2), a host abort (3); 0 when it did not.
    var stopReason: Int32 { ekv_script_stopped(scriptHandle) }

    // MARK: - Loading and calling

    /// Compiles `code` as chunk `chunkName`, leaving the function on the stack; the compiler's message
    /// when it does not compile.
    func load(_ code: [UInt8], chunkName: String) -> String? {
        let status = code.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
                ekv_script_load(scriptHandle, $0, buffer.count, chunkName)
            }
        }
        if status == 0 { return nil }
        defer { pop(1) }
        return string(at: -1).map { String(decoding: $0, as: UTF8.self) } ?? "unknown error"
    }

    /// An error a protected call ended with: the value raised, and the first script frame at that point.
    struct RaisedError {
        var value: RaisedValue
        var source: String
        var line: Int32
    }

    enum RaisedValue {
        /// A table with a string `err` (redis.call's errors, `error({err = ...})`).
        case table(err: [UInt8])
        /// A string, or a number Lua turned into one.
        case text([UInt8])
        /// Anything else, as `tostring` shows it where that is stable (nil, booleans).
        case other(String)

        /// The error line Redis makes of it: an error table's `err` as is, anything else after `ERR `.
        var line: String {
            switch self {
            case .table(let err): return LuaSandbox.line(err)
            case .text(let bytes): return "ERR " + LuaSandbox.line(bytes)
            case .other(let shown): return "ERR " + shown
            }
        }
    }

    /// Calls the function below `arguments` on the stack, in protected mode, leaving one result.
    func protectedCall(arguments: Int32) -> RaisedError? {
        if ekv_script_pcall(scriptHandle, arguments, 1) == 0 { return nil }
        defer { pop(1) }
        let value: RaisedValue
        switch lua_type(state, -1) {
        case LUA_TTABLE:
            if let err = field("err", ofTableAt: -1) { value = .table(err: err) } else { value = .other("table") }
        case LUA_TSTRING, LUA_TNUMBER: value = .text(string(at: -1) ?? [])
        case LUA_TBOOLEAN: value = .other(lua_toboolean(state, -1) != 0 ? "true" : "false")
        case LUA_TNIL: value = .other("nil")
        default: value = .other(String(cString: lua_typename(state, lua_type(state, -1))))
        }
        return RaisedError(value: value, source: String(cString: ekv_script_error_source(scriptHandle)),
                           line: ekv_script_error_line(scriptHandle))
    }

    /// Sets global `name` to an array of strings (KEYS, ARGV).
    func setGlobalArray(_ name: String, _ items: [[UInt8]]) {
        pushArray(items)
        ekv_script_set_global(scriptHandle, name)
    }

    func pushArray(_ items: [[UInt8]]) {
        lua_createtable(state, Int32(clamping: items.count), 0)
        for (index, item) in items.enumerated() {
            push(item)
            lua_rawseti(state, -2, Int32(index + 1))
        }
    }

    // MARK: - Stack helpers (none can raise)

    func pop(_ count: Int32) { lua_settop(state, -count - 1) }

    func push(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
                lua_pushlstring(state, $0, buffer.count)
            }
        }
    }

    func push(_ text: String) { push(Array(text.utf8)) }

    /// The bytes of the string (or number, converted in place) at `index`; nil for other types.
    func string(at index: Int32) -> [UInt8]? {
        let type = lua_type(state, index)
        guard type == LUA_TSTRING || type == LUA_TNUMBER else { return nil }
        var length = 0
        guard let pointer = lua_tolstring(state, index, &length) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// The string field `name` of the table at `index` (raw access), if it is a string.
    func field(_ name: String, ofTableAt index: Int32) -> [UInt8]? {
        let table = absolute(index)
        push(name)
        lua_rawget(state, table)
        defer { pop(1) }
        return lua_type(state, -1) == LUA_TSTRING ? string(at: -1) : nil
    }

    /// Pushes the raw value of field `name` of the table at absolute index `table`.
    func pushField(_ name: String, ofTable table: Int32) {
        push(name)
        lua_rawget(state, table)
    }

    /// An absolute stack index for `index`.
    func absolute(_ index: Int32) -> Int32 { index > 0 ? index : lua_gettop(state) + 1 + index }

    // MARK: - Lua → reply

    /// The reply for the Lua value at `index`, as Redis converts a script's result: numbers truncate to
    /// integers, `true` is 1, `false` and nil are null, `{err=}` and `{ok=}` are error and status replies,
    /// `{double=}`, `{map=}`, `{set=}`, `{big_number=}` the RESP3 types, other tables arrays up to the first nil.
    func reply(at index: Int32, depth: Int = 0) -> RESPValue {
        let index = absolute(index)
        switch lua_type(state, index) {
        case LUA_TSTRING: return .bulkString(string(at: index) ?? [])
        case LUA_TNUMBER: return .integer(Self.truncated(lua_tonumber(state, index)))
        case LUA_TBOOLEAN:
            // After redis.setresp(3) booleans are RESP3 booleans (1 / 0 to a RESP2 client), as in Redis.
            if respVersion == 3 { return .boolean(lua_toboolean(state, index) != 0) }
            return lua_toboolean(state, index) != 0 ? .integer(1) : .null
        case LUA_TTABLE:
            guard depth < Self.maxDepth, lua_checkstack(state, 4) != 0 else {
                return .error("ERR reached lua stack limit")
            }
            return tableReply(at: index, depth: depth)
        default: return .null
        }
    }

    static let maxDepth = 200

    /// `%.17g`, as Redis turns a Lua number given to redis.call into an argument.
    static func format17(_ value: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 40)
        let written = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.17g", $0) }
        return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// An error or status text as one reply line: CR and LF become spaces, as Redis sends them.
    static func line(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }

    private func tableReply(at table: Int32, depth: Int) -> RESPValue {
        if let err = field("err", ofTableAt: table) { return .error(Self.line(err)) }
        if let ok = field("ok", ofTableAt: table) { return .simpleString(Self.line(ok)) }
        pushField("double", ofTable: table)
        if lua_type(state, -1) == LUA_TNUMBER {
            defer { pop(1) }
            return .double(lua_tonumber(state, -1))
        }
        pop(1)
        if let big = field("big_number", ofTableAt: table) { return .bulkString(big) }
        pushField("verbatim_string", ofTable: table)
        if lua_type(state, -1) == LUA_TTABLE {
            defer { pop(1) }
            if let text = field("string", ofTableAt: -1) { return .bulkString(text) }
        } else {
            pop(1)
        }
        pushField("map", ofTable: table)
        if lua_type(state, -1) == LUA_TTABLE {
            defer { pop(1) }
            var pairs: [RESPValue.Pair] = []
            let map = absolute(-1)
            lua_pushnil(state)
            while lua_next(state, map) != 0 {
                pairs.append(RESPValue.Pair(reply(at: -2, depth: depth + 1), reply(at: -1, depth: depth + 1)))
                pop(1)
            }
            return .map(pairs)
        }
        pop(1)
        pushField("set", ofTable: table)
        if lua_type(state, -1) == LUA_TTABLE {
            defer { pop(1) }
            var members: [RESPValue] = []
            let set = absolute(-1)
            lua_pushnil(state)
            while lua_next(state, set) != 0 {
                members.append(reply(at: -2, depth: depth + 1))
                pop(1)
            }
            return .set(members)
        }
        pop(1)
        var items: [RESPValue] = []
        var position: Int32 = 1
        while true {
            lua_rawgeti(state, table, position)
            if lua_type(state, -1) == LUA_TNIL {
                pop(1)
                break
            }
            items.append(reply(at: -1, depth: depth + 1))
            pop(1)
            position += 1
        }
        return .array(items)
    }

    /// C's `(long long)` of a double as Redis's conversion does it on x86-64: NaN and values out of range
    /// become the smallest integer.
    static func truncated(_ number: Double) -> Int64 {
        guard number.isFinite, number >= -9.223372036854775808e18, number < 9.223372036854775808e18 else {
            return .min
        }
        return Int64(number)
    }

    // MARK: - Reply → Lua

    /// Pushes a command's reply as `redis.call` returns it under `respVersion` (errors are pushed as
    /// `{err=}` tables; the caller decides whether to raise them).
    func pushReply(_ reply: RESPValue, depth: Int = 0) {
        guard depth < Self.maxDepth, lua_checkstack(state, 4) != 0 else {
            lua_pushnil(state)
            return
        }
        let resp3 = respVersion == 3
        switch reply {
        case .simpleString(let text): pushTable("ok", Array(text.utf8))
        case .error(let text): pushTable("err", Array(text.utf8))
        case .integer(let value): lua_pushnumber(state, Double(value))
        case .boolean(let value): lua_pushboolean(state, value ? 1 : 0)
        case .bulkString(let bytes): push(bytes)
        case .null, .nullArray:
            if resp3 { lua_pushnil(state) } else { lua_pushboolean(state, 0) }
        case .array(let items), .push(let items), .sequence(let items): pushList(items, depth: depth)
        case .set(let items):
            if resp3 {
                lua_createtable(state, 0, 1)
                push("set")
                lua_createtable(state, 0, Int32(clamping: items.count))
                for item in items {
                    pushReply(item, depth: depth + 1)
                    lua_pushboolean(state, 1)
                    lua_rawset(state, -3)
                }
                lua_rawset(state, -3)
            } else {
                pushList(items, depth: depth)
            }
        case .map(let pairs):
            if resp3 { pushMap(pairs, depth: depth) } else { pushList(pairs.flatMap { [$0.key, $0.value] }, depth: depth) }
        case .pairs(let pairs):
            pushList(resp3 ? pairs.map { .array([$0.key, $0.value]) } : pairs.flatMap { [$0.key, $0.value] }, depth: depth)
        case .pairArrays(let pairs):
            if resp3 { pushMap(pairs, depth: depth) } else { pushList(pairs.map { .array([$0.key, $0.value]) }, depth: depth) }
        case .double(let value):
            if resp3 {
                lua_createtable(state, 0, 1)
                push("double")
                lua_pushnumber(state, value)
                lua_rawset(state, -3)
            } else {
                push(RESPValue.format(value))
            }
        }
    }

    private func pushTable(_ key: String, _ value: [UInt8]) {
        lua_createtable(state, 0, 1)
        push(key)
        push(value)
        lua_rawset(state, -3)
    }

    private func pushList(_ items: [RESPValue], depth: Int) {
        lua_createtable(state, Int32(clamping: items.count), 0)
        for (index, item) in items.enumerated() {
            pushReply(item, depth: depth + 1)
            lua_rawseti(state, -2, Int32(index + 1))
        }
    }

    private func pushMap(_ pairs: [RESPValue.Pair], depth: Int) {
        lua_createtable(state, 0, 1)
        push("map")
        lua_createtable(state, 0, Int32(clamping: pairs.count))
        for pair in pairs {
            pushReply(pair.key, depth: depth + 1)
            pushReply(pair.value, depth: depth + 1)
            lua_rawset(state, -3)
        }
        lua_rawset(state, -3)
    }

    // MARK: - Host functions

    fileprivate func host(_ op: Int32) -> HostAnswer {
        switch Int(op) {
        case Int(EKV_HOST_CALL.rawValue), Int(EKV_HOST_PCALL.rawValue):
            return call(raising: op == Int32(EKV_HOST_CALL.rawValue))
        case Int(EKV_HOST_SHA1HEX.rawValue):
            guard lua_gettop(state) == 1 else { return raiseError("ERR wrong number of arguments") }
            push(Array(ScriptDigest.sha1Hex(string(at: 1) ?? []).utf8))
            return .results(1)
        case Int(EKV_HOST_LOG.rawValue):
            return log()
        case Int(EKV_HOST_SETRESP.rawValue):
            guard lua_gettop(state) == 1 else {
                return raiseError("ERR redis.setresp() requires one argument.")
            }
            let version = lua_isnumber(state, 1) != 0 ? Int(lua_tonumber(state, 1)) : 0
            guard version == 2 || version == 3 else { return raiseError("ERR RESP version must be 2 or 3.") }
            respVersion = version
            return .results(0)
        case Int(EKV_HOST_REGISTER_FUNCTION.rawValue):
            guard let onRegisterFunction else {
                return raiseError("ERR redis.register_function can only be called on FUNCTION LOAD command")
            }
            return onRegisterFunction(self)
        case Int(EKV_HOST_ACL_CHECK.rawValue):
            guard lua_gettop(state) >= 1, let name = string(at: 1), knowsCommand?(name) ?? false else {
                return raiseError("ERR Invalid command passed to redis.acl_check_cmd()")
            }
            lua_pushboolean(state, 1)
            return .results(1)
        default:
            return raiseError("ERR unknown host function")
        }
    }

    /// Pushes `{err = message}` to be raised.
    func raiseError(_ message: String) -> HostAnswer {
        pushTable("err", Array(message.utf8))
        return .raise
    }

    private func call(raising: Bool) -> HostAnswer {
        let count = lua_gettop(state)
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(Int(count))
        var refusal: String?
        if count == 0 { refusal = "ERR Please specify at least one argument for this redis lib call" }
        for index in stride(from: Int32(1), through: count, by: 1) where refusal == nil {
            if lua_type(state, index) == LUA_TNUMBER {
                // Redis formats a number argument with %.17g (0.1 is 0.10000000000000001).
                arguments.append(Array(Self.format17(lua_tonumber(state, index)).utf8))
                continue
            }
            guard let argument = string(at: index) else {
                refusal = "ERR Lua redis lib command arguments must be strings or integers"
                break
            }
            arguments.append(argument)
        }
        let reply: RESPValue
        if let refusal {
            reply = .error(refusal)
        } else {
            guard let onCall else { return raiseError("ERR redis.call is not available here") }
            guard let answered = onCall(arguments, raising) else { return .abort }
            reply = answered
        }
        lua_settop(state, 0)
        pushReply(reply)
        if case .error = reply, raising { return .raise }
        return .results(1)
    }

    private func log() -> HostAnswer {
        let count = lua_gettop(state)
        guard count >= 2 else { return raiseError("ERR redis.log() requires two arguments or more.") }
        guard lua_type(state, 1) == LUA_TNUMBER else { return raiseError("ERR First argument must be a number (log level).") }
        let level = Int(lua_tonumber(state, 1))
        guard (0...3).contains(level) else { return raiseError("ERR Invalid debug level.") }
        var message: [UInt8] = []
        for index in stride(from: Int32(2), through: count, by: 1) {
            if index > 2 { message.append(0x20) }
            message += string(at: index) ?? []
        }
        onLog?(level, message)
        return .results(0)
    }
}

/// What the C callback reaches: the sandbox of the run (set right after creation).
private final class HostBox {
    weak var sandbox: LuaSandbox?
}

private func luaHostCallback(_ host: UnsafeMutableRawPointer?, _ state: OpaquePointer?, _ op: Int32) -> Int32 {
    guard let host, let sandbox = Unmanaged<HostBox>.fromOpaque(host).takeUnretainedValue().sandbox else { return -2 }
    switch sandbox.host(op) {
    case .results(let count): return count
    case .raise: return -1
    case .abort: return -2
    }
}
