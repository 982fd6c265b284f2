import KV

extension RedisCommandParser {
    static let connectionSpecs: [String: Spec] = [
        "ping": Spec(arity: -1) { _, a, _ throws(RedisArgumentError) in
            guard a.count <= 1 else { throw .wrongArity }
            return .connection(.ping(a.first))
        },
        "echo": Spec(arity: 2) { _, a, _ in .connection(.echo(a[a.startIndex])) },
        "hello": Spec(arity: -1) { _, a, _ throws(RedisArgumentError) in try parseHello(a) },
        "auth": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            switch a.count {
            case 1:
                return .connection(.auth(Credentials(user: Array("default".utf8), password: a[a.startIndex], passwordOnly: true)))
            case 2: return .connection(.auth(Credentials(user: a[a.startIndex], password: a[a.startIndex + 1])))
            default: throw .syntax
            }
        },
        "client": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseClient(a) },
        "select": Spec(arity: 2) { _, a, _ throws(RedisArgumentError) in
            .connection(.select(try integer(a[a.startIndex])))
        },
        "command": Spec(arity: -1) { _, a, _ in .connection(.command(subcommand: a.first, names: Array(a.dropFirst()))) },
        "info": Spec(arity: -1) { _, a, _ in .connection(.info(sections: Array(a))) },
        "quit": Spec(arity: -1) { _, _, _ in .connection(.quit) },
        "time": Spec(arity: 1) { _, _, _ in .connection(.time) },
        "config": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            let name = String(decoding: a[a.startIndex], as: UTF8.self)
            let arguments = a.dropFirst()
            switch name.lowercased() {
            case "get" where !arguments.isEmpty: return .connection(.config(.get(Array(arguments))))
            case "set" where !arguments.isEmpty && arguments.count % 2 == 0:
                return .connection(.config(.set(Array(arguments))))
            case "resetstat" where arguments.isEmpty: return .connection(.config(.resetStatistics))
            case "rewrite" where arguments.isEmpty: return .connection(.config(.rewrite))
            case "get", "set", "resetstat", "rewrite":
                throw .custom("ERR wrong number of arguments for 'config|\(name.lowercased())' command")
            default: throw .custom("ERR unknown subcommand '\(name)'. Try CONFIG HELP.")
            }
        },
        "multi": Spec(arity: 1) { _, _, _ in .transaction(.multi) },
        "exec": Spec(arity: 1) { _, _, _ in .transaction(.exec) },
        "discard": Spec(arity: 1) { _, _, _ in .transaction(.discard) },
        "watch": Spec(arity: -2) { _, a, _ in .transaction(.watch(Array(a))) },
        "unwatch": Spec(arity: 1) { _, _, _ in .transaction(.unwatch) },
    ]

    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
    static func parseHello(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard let first = a.first else { return .connection(.hello(protocolVersion: nil, auth: nil, clientName: nil)) }
        guard let version = RedisNumber.parseInteger(first) else {
            throw .custom("ERR Protocol version is not an integer or out of range")
        }
        var auth: Credentials?
        var name: [UInt8]?
        var index = a.startIndex + 1
        while index < a.endIndex {
            switch keyword(a[index]) {
            case "AUTH" where index + 2 < a.endIndex:
                auth = Credentials(user: a[index + 1], password: a[index + 2])
                index += 3
            case "SETNAME" where index + 1 < a.endIndex:
                name = try clientName(a[index + 1])
                index += 2
            default:
                throw .custom("ERR Syntax error in HELLO option '\(String(decoding: a[index], as: UTF8.self))'")
            }
        }
        return .connection(.hello(protocolVersion: Int(clamping: version), auth: auth, clientName: name))
    }

    /// A name CLIENT SETNAME or HELLO … SETNAME accepts: printable ASCII without spaces.
    static func clientName(_ name: [UInt8]) throws(RedisArgumentError) -> [UInt8] {
        guard !name.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw .custom("ERR Client names cannot contain spaces, newlines or special characters.")
        }
        return name
    }

    /// `CLIENT SETNAME | GETNAME | ID | SETINFO`.
    static func parseClient(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let sub = keyword(a[a.startIndex])
        switch sub {
        case "SETNAME":
            guard a.count == 2 else { throw .custom("ERR wrong number of arguments for 'client|setname' command") }
            return .connection(.clientSetName(try clientName(a[a.startIndex + 1])))
        case "GETNAME", "ID":
            guard a.count == 1 else {
                throw .custom("ERR wrong number of arguments for 'client|\(sub.lowercased())' command")
            }
            return .connection(sub == "ID" ? .clientID : .clientGetName)
        case "SETINFO":
            guard a.count == 3 else { throw .custom("ERR wrong number of arguments for 'client|setinfo' command") }
            return .connection(.clientSetInfo)
        case "INFO":
            guard a.count == 1 else { throw .custom("ERR wrong number of arguments for 'client|info' command") }
            return .connection(.clientInfo)
        case "LIST":
            var ids: [Int64]? = []
            var index = a.startIndex + 1
            while index < a.endIndex {
                switch keyword(a[index]) {
                case "ID" where index + 1 < a.endIndex:
                    for argument in a[(index + 1)...] {
                        guard let id = RedisNumber.parseInteger(argument) else { throw .custom("ERR Invalid client ID") }
                        ids?.append(id)
                    }
                    index = a.endIndex
                case "TYPE" where index + 1 < a.endIndex:
                    switch keyword(a[index + 1]) {
                    case "NORMAL": break
                    case "MASTER", "REPLICA", "SLAVE", "PUBSUB": ids = nil
                    default: throw .custom("ERR Unknown client type '\(String(decoding: a[index + 1], as: UTF8.self))'")
                    }
                    index += 2
                default: throw .syntax
                }
            }
            return .connection(.clientList(ids: ids))
        case "KILL":
            guard a.count >= 2 else { throw .custom("ERR wrong number of arguments for 'client|kill' command") }
            if a.count == 2 {
                return .connection(.clientKill(ids: [], addresses: [String(decoding: a[a.startIndex + 1], as: UTF8.self)],
                                               oldForm: true))
            }
            var ids: [Int64] = [], addresses: [String] = []
            var index = a.startIndex + 1
            while index < a.endIndex {
                guard index + 1 < a.endIndex else { throw .syntax }
                let value = a[index + 1]
                switch keyword(a[index]) {
                case "ID":
                    guard let id = RedisNumber.parseInteger(value), id > 0 else {
                        throw .custom("ERR client-id should be greater than 0")
                    }
                    ids.append(id)
                case "ADDR": addresses.append(String(decoding: value, as: UTF8.self))
                case "SKIPME": guard ["YES", "NO"].contains(keyword(value)) else { throw .syntax }
                default: throw .syntax
                }
                index += 2
            }
            return .connection(.clientKill(ids: ids, addresses: addresses, oldForm: false))
        default:
            if let request = try parseClientServer(sub, a) { return request }
            throw .custom("ERR unknown subcommand '\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try CLIENT HELP.")
        }
    }
}
