import CLua
import DurableIO
import KV
import LuaRuntime

/// Loads a Redis 7 function library (`#!lua name=<lib>` then Lua code calling `redis.register_function`):
/// FUNCTION LOAD checks and records its functions, FCALL loads it again in the run's interpreter and calls one.
///
/// The library's code runs in an environment of its own, as in Redis: while it loads, it sees only
/// `redis.register_function`, `redis.log` and the `redis` constants; once loaded, its functions see the
/// script globals (`redis.call` …). A proxy table is the chunk's environment; its `__index` moves from the
/// load environment to the globals after the load.
final class FunctionLibraryLoader {
    struct Loaded {
        var functions: [FunctionLibraryRecord.Function]
    }

    struct Refusal: Error {
        var message: String
    }

    let limits: LuaSandbox.Limits
    private var functions: [FunctionLibraryRecord.Function] = []

    init(limits: LuaSandbox.Limits) {
        self.limits = limits
    }

    static let nameRule = "Library names can only contain letters, numbers, or underscores(_) and must be at least one "
        + "character long"
    private static let callbacksKey = "elastickv.functions"
    private static let environmentKey = "elastickv.function_env"

    /// The library name in the code's first line (`#!lua name=<lib>`).
    static func metadata(_ code: [UInt8]) -> Result<[UInt8], Refusal> {
        guard code.starts(with: Array("#!".utf8)) else { return .failure(Refusal(message: "ERR Missing library metadata")) }
        guard let end = code.firstIndex(of: 0x0A) else { return .failure(Refusal(message: "ERR Invalid library metadata")) }
        var words = code[2..<end].split(separator: 0x20).map(Array.init)
        let engine = words.isEmpty ? [] : words.removeFirst()
        guard String(decoding: engine, as: UTF8.self).lowercased() == "lua" else {
            return .failure(Refusal(message: "ERR Engine '\(String(decoding: engine, as: UTF8.self))' not found"))
        }
        var name: [UInt8]?
        for word in words {
            guard word.starts(with: Array("name=".utf8)) else {
                return .failure(Refusal(message: "ERR Invalid metadata value given: \(String(decoding: word, as: UTF8.self))"))
            }
            guard name == nil else {
                return .failure(Refusal(message: "ERR Invalid metadata value, name argument was given multiple times"))
            }
            name = Array(word.dropFirst(5))
        }
        guard let name else { return .failure(Refusal(message: "ERR Library name was not given")) }
        guard validName(name) else { return .failure(Refusal(message: "ERR " + nameRule)) }
        return .success(name)
    }

    static func validName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
    }

    /// Loads `code` in a new interpreter, only to learn its functions (FUNCTION LOAD, RESTORE).
    func load(_ code: [UInt8]) -> Result<Loaded, Refusal> {
        guard let sandbox = LuaSandbox(limits: limits, seed: 0) else {
            return .failure(Refusal(message: "ERR could not start a Lua interpreter"))
        }
        return load(code, into: sandbox)
    }

    /// Loads `code` into `sandbox`; its callbacks stay in the interpreter's registry for ``pushCallback(named:in:)``.
    func load(_ code: [UInt8], into sandbox: LuaSandbox) -> Result<Loaded, Refusal> {
        functions = []
        let state = sandbox.state
        // The first line is the metadata: compile it as an empty line, so line numbers stay those of the code.
        let end = code.firstIndex(of: 0x0A) ?? code.endIndex
        if let message = sandbox.load(Array(code[end...]), chunkName: "@user_function") {
            return .failure(Refusal(message: "ERR Error compiling function: " + message))
        }
        // Stack: chunk. The globals' metatable answers unknown names with Redis's error.
        lua_getmetatable(state, LUA_GLOBALSINDEX)
        let protection = lua_gettop(state)
        lua_createtable(state, 0, 8)
        let loadRedis = lua_gettop(state)
        sandbox.push("register_function")
        ekv_script_push_host_function(sandbox.scriptHandle, Int32(EKV_HOST_REGISTER_FUNCTION.rawValue))
        lua_rawset(state, loadRedis)
        sandbox.push("redis")
        lua_rawget(state, LUA_GLOBALSINDEX)
        let redis = lua_gettop(state)
        for name in ["log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"] {
            sandbox.push(name)
            sandbox.pushField(name, ofTable: redis)
            lua_rawset(state, loadRedis)
        }
        sandbox.pop(1)
        lua_pushvalue(state, protection)
        lua_setmetatable(state, loadRedis)
        lua_createtable(state, 0, 1)
        let loadEnvironment = lua_gettop(state)
        sandbox.push("redis")
        lua_pushvalue(state, loadRedis)
        lua_rawset(state, loadEnvironment)
        lua_pushvalue(state, protection)
        lua_setmetatable(state, loadEnvironment)
        // The proxy and its metatable.
        lua_createtable(state, 0, 0)
        let proxy = lua_gettop(state)
        lua_createtable(state, 0, 2)
        let proxyMeta = lua_gettop(state)
        sandbox.push("__index")
        lua_pushvalue(state, loadEnvironment)
        lua_rawset(state, proxyMeta)
        sandbox.push("__newindex")
        sandbox.pushField("__newindex", ofTable: protection)
        lua_rawset(state, proxyMeta)
        sandbox.push(Self.environmentKey)
        lua_pushvalue(state, proxyMeta)
        lua_rawset(state, LUA_REGISTRYINDEX)
        lua_setmetatable(state, proxy)
        // Stack: chunk, protection, loadRedis, loadEnvironment, proxy.
        lua_setfenv(state, protection - 1)
        lua_settop(state, protection - 1)
        sandbox.push(Self.callbacksKey)
        lua_createtable(state, 0, 4)
        lua_rawset(state, LUA_REGISTRYINDEX)

        sandbox.onRegisterFunction = { [unowned self] sandbox in self.register(sandbox) }
        defer { sandbox.onRegisterFunction = nil }
        if let raised = sandbox.protectedCall(arguments: 0) {
            return .failure(Refusal(message: "ERR Error registering functions: " + raised.value.line))
        }
        sandbox.pop(1)
        guard !functions.isEmpty else { return .failure(Refusal(message: "ERR No functions registered")) }
        // From now on the library's functions see the globals.
        sandbox.push(Self.environmentKey)
        lua_rawget(state, LUA_REGISTRYINDEX)
        sandbox.push("__index")
        lua_pushvalue(state, LUA_GLOBALSINDEX)
        lua_rawset(state, -3)
        sandbox.pop(1)
        return .success(Loaded(functions: functions))
    }

    /// Pushes the callback registered as `name` (case-insensitive), if the library registered one.
    func pushCallback(named name: String, in sandbox: LuaSandbox) -> Bool {
        sandbox.push(Self.callbacksKey)
        lua_rawget(sandbox.state, LUA_REGISTRYINDEX)
        sandbox.push(ScriptEngine.lowercased(Array(name.utf8)))
        lua_rawget(sandbox.state, -2)
        lua_remove(sandbox.state, -2)
        if lua_type(sandbox.state, -1) == LUA_TFUNCTION { return true }
        sandbox.pop(1)
        return false
    }

    /// `redis.register_function(name, callback)` or `redis.register_function{function_name=, callback=,
    /// flags=, description=}`.
    private func register(_ sandbox: LuaSandbox) -> LuaSandbox.HostAnswer {
        let state = sandbox.state
        var name: [UInt8]?
        var flags: UInt8 = 0
        var description: [UInt8]?
        let callback: Int32
        switch lua_gettop(state) {
        case 2:
            guard let given = lua_type(state, 1) == LUA_TSTRING ? sandbox.string(at: 1) : nil else {
                return sandbox.raiseError("ERR first argument to redis.register_function must be a string")
            }
            name = given
            guard lua_type(state, 2) == LUA_TFUNCTION else {
                return sandbox.raiseError("ERR second argument to redis.register_function must be a function")
            }
            callback = 2
        case 1:
            guard lua_type(state, 1) == LUA_TTABLE else {
                return sandbox.raiseError("ERR calling redis.register_function with a single argument is only applicable "
                    + "to Lua table (representing named arguments).")
            }
            var found: Int32 = 0
            lua_pushnil(state)
            while lua_next(state, 1) != 0 {
                // Stack: table, [callback], key, value
                guard lua_type(state, -2) == LUA_TSTRING, let key = sandbox.string(at: -2) else {
                    sandbox.pop(2)
                    return sandbox.raiseError("ERR named argument key given to redis.register_function is not a string")
                }
                switch String(decoding: key, as: UTF8.self) {
                case "function_name":
                    guard lua_type(state, -1) == LUA_TSTRING else {
                        sandbox.pop(2)
                        return sandbox.raiseError("ERR function_name argument given to redis.register_function must be a string")
                    }
                    name = sandbox.string(at: -1)
                case "description":
                    guard lua_type(state, -1) == LUA_TSTRING else {
                        sandbox.pop(2)
                        return sandbox.raiseError("ERR description argument given to redis.register_function must be a string")
                    }
                    description = sandbox.string(at: -1)
                case "callback":
                    guard lua_type(state, -1) == LUA_TFUNCTION else {
                        sandbox.pop(2)
                        return sandbox.raiseError("ERR callback argument given to redis.register_function must be a function")
                    }
                    lua_pushvalue(state, -1)
                    lua_insert(state, 2)
                    found = 2
                case "flags":
                    guard lua_type(state, -1) == LUA_TTABLE, let parsed = parseFlags(sandbox) else {
                        sandbox.pop(2)
                        return sandbox.raiseError("ERR unknown flag given")
                    }
                    flags = parsed
                default:
                    sandbox.pop(2)
                    return sandbox.raiseError("ERR unknown argument given to redis.register_function")
                }
                sandbox.pop(1)
            }
            guard name != nil else { return sandbox.raiseError("ERR redis.register_function must get a function name argument") }
            guard found != 0 else { return sandbox.raiseError("ERR redis.register_function must get a callback argument") }
            callback = found
        default:
            return sandbox.raiseError("ERR wrong number of arguments to redis.register_function")
        }
        guard let name, Self.validName(name) else { return sandbox.raiseError("ERR " + Self.nameRule) }
        let key = ScriptEngine.lowercased(name)
        guard !functions.contains(where: { ScriptEngine.lowercased($0.name) == key }) else {
            return sandbox.raiseError("ERR Function already exists in the library")
        }
        functions.append(FunctionLibraryRecord.Function(name: name, flags: flags, description: description))
        sandbox.push(Self.callbacksKey)
        lua_rawget(state, LUA_REGISTRYINDEX)
        sandbox.push(key)
        lua_pushvalue(state, callback)
        lua_rawset(state, -3)
        sandbox.pop(1)
        return .results(0)
    }

    /// The flags in the table at the top of the stack; nil for an unknown one.
    private func parseFlags(_ sandbox: LuaSandbox) -> UInt8? {
        let state = sandbox.state
        var flags: UInt8 = 0
        let table = sandbox.absolute(-1)
        var position: Int32 = 1
        while true {
            lua_rawgeti(state, table, position)
            defer { sandbox.pop(1) }
            if lua_type(state, -1) == LUA_TNIL { return flags }
            guard lua_type(state, -1) == LUA_TSTRING, let text = sandbox.string(at: -1),
                  let known = FunctionLibraryRecord.Flags.names.first(where: { Array($0.name.utf8) == text }) else { return nil }
            flags |= known.bit
            position += 1
        }
    }
}

/// FUNCTION DUMP's payload: elastickv's own format (Redis's is its RDB encoding; a payload moves between
/// elastickv clusters, not into Redis). `EKVFN` ‖ version u8 = 1 ‖ count u32 ‖ (code blob) × count ‖ CRC32C u32
/// of everything before it.
enum FunctionDump {
    static let magic = Array("EKVFN".utf8)

    static func encode(_ codes: [[UInt8]]) -> [UInt8] {
        var output = magic + [1]
        output.appendBigEndian(UInt32(codes.count))
        for code in codes {
            output.appendBigEndian(UInt32(code.count))
            output += code
        }
        output.appendBigEndian(CRC32C.checksum(output))
        return output
    }

    static func decode(_ payload: [UInt8]) -> [[UInt8]]? {
        guard payload.count >= magic.count + 9, payload.starts(with: magic), payload[magic.count] == 1 else { return nil }
        let body = Array(payload.dropLast(4))
        var reader = BigEndianReader(payload.suffix(4)[...])
        guard let checksum: UInt32 = try? reader.read(), checksum == CRC32C.checksum(body) else { return nil }
        var codes = BigEndianReader(body[(magic.count + 1)...])
        guard let count: UInt32 = try? codes.read() else { return nil }
        var result: [[UInt8]] = []
        for _ in 0..<count {
            guard let length: UInt32 = try? codes.read(), let code = try? codes.readBytes(Int(length)) else { return nil }
            result.append(Array(code))
        }
        return codes.remaining == 0 ? result : nil
    }
}
