import KV
import RESP

/// `ACL …` (Redis 7.0): SETUSER and DELUSER change the replicated users (one transaction entry each, applied
/// on every replica by ``ACLApplier``); the others read them or this connection's and node's state.
public enum ACLCommand: Hashable, Sendable {
    case setUser(name: [UInt8], rules: [[UInt8]])
    case deleteUsers([[UInt8]])
    case getUser([UInt8])
    case list
    case users
    case whoAmI
    case categories([UInt8]?)
    case dryRun(user: [UInt8], arguments: [[UInt8]])
    /// ACL LOG [count | RESET]: nil count shows 10.
    case log(count: Int?)
    case resetLog
    case generatePassword(bits: Int)
    /// ACL SAVE / ACL LOAD: there is no ACL file.
    case file
    case help

    /// Whether the command changes the users (and so is proposed through Raft).
    public var isReplicated: Bool {
        switch self {
        case .setUser, .deleteUsers: return true
        default: return false
        }
    }
}

extension RedisCommandParser {
    static let aclSpecs: [String: Spec] = [
        "acl": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in .acl(try parseACL(a)) },
    ]

    static func parseACL(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> ACLCommand {
        let sub = keyword(a[a.startIndex])
        let rest = Array(a.dropFirst())
        func arity(_ ok: Bool) throws(RedisArgumentError) {
            guard ok else { throw .custom("ERR wrong number of arguments for 'acl|\(sub.lowercased())' command") }
        }
        // CAT, LOG and GENPASS take an optional argument: more is worded like an unknown subcommand, as in Redis.
        if ["CAT", "LOG", "GENPASS"].contains(sub), rest.count > 1 {
            throw .custom("ERR unknown subcommand or wrong number of arguments for "
                + "'\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try ACL HELP.")
        }
        switch sub {
        case "SETUSER":
            try arity(rest.count >= 1)
            return .setUser(name: rest[0], rules: Array(rest.dropFirst()))
        case "DELUSER":
            try arity(rest.count >= 1)
            return .deleteUsers(rest)
        case "GETUSER":
            try arity(rest.count == 1)
            return .getUser(rest[0])
        case "LIST", "USERS", "WHOAMI", "SAVE", "LOAD", "HELP":
            try arity(rest.isEmpty)
            switch sub {
            case "LIST": return .list
            case "USERS": return .users
            case "WHOAMI": return .whoAmI
            case "HELP": return .help
            default: return .file
            }
        case "CAT":
            try arity(rest.count <= 1)
            return .categories(rest.first)
        case "DRYRUN":
            try arity(rest.count >= 2)
            return .dryRun(user: rest[0], arguments: Array(rest.dropFirst()))
        case "LOG":
            try arity(rest.count <= 1)
            guard let argument = rest.first else { return .log(count: nil) }
            if keyword(argument) == "RESET" { return .resetLog }
            return .log(count: Int(clamping: max(0, try integer(argument))))
        case "GENPASS":
            try arity(rest.count <= 1)
            guard let argument = rest.first else { return .generatePassword(bits: 256) }
            let bits = try integer(argument)
            guard bits > 0, bits <= 4096 else {
                throw .custom("ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                    + "number up to 4096")
            }
            return .generatePassword(bits: Int(bits))
        default:
            throw .custom("ERR unknown subcommand '\(String(decoding: a[a.startIndex], as: UTF8.self))'. Try ACL HELP.")
        }
    }
}
