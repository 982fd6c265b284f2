import KV
import RESP
import Storage

/// How a user is stored in its row (docs/formats.md §5a): the rules that rebuild it from nothing.
///
/// ```
/// body  0x01 ‖ count u32 ‖ (length u32 ‖ rule bytes) × count      (big-endian)
/// ```
/// The rules are the user's own description (what ACL LIST prints after the name, split at spaces; selectors
/// are joined again when applied) when re-applying it to a new user gives the same user; should it ever not,
/// every rule ever applied, in order. Either way ``ACLUser/settingUser(_:name:rules:channelsAllowedByDefault:)``
/// rebuilds it.
public enum ACLUserRecord {
    static let version: UInt8 = 1

    public static func encode(_ rules: [[UInt8]]) -> [UInt8] {
        var output: [UInt8] = [version]
        func append(_ value: Int) { output += withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) } }
        append(rules.count)
        for rule in rules {
            append(rule.count)
            output += rule
        }
        return output
    }

    /// The rules in a row body; nil for a body this version does not read.
    public static func decode(_ body: [UInt8]) -> [[UInt8]]? {
        guard body.first == version else { return nil }
        var index = 1
        func next() -> Int? {
            guard index + 4 <= body.count else { return nil }
            defer { index += 4 }
            return body[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard let count = next(), count <= body.count else { return nil }
        var rules: [[UInt8]] = []
        for _ in 0..<count {
            guard let length = next(), index + length <= body.count else { return nil }
            rules.append(Array(body[index..<index + length]))
            index += length
        }
        return index == body.count ? rules : nil
    }

    /// The user a row holds.
    public static func user(named name: [UInt8], body: [UInt8]) -> ACLUser? {
        guard let rules = decode(body) else { return nil }
        return try? ACLUser.settingUser(nil, name: name, rules: rules)
    }

    /// The user's own description, split into rules.
    static func describedRules(of user: ACLUser) -> [[UInt8]] {
        user.rulesDescription().split(separator: 0x20).map(Array.init)
    }

    /// The rules to store for `user`, reached by applying `history` to a new user.
    static func rules(for user: ACLUser, history: [[UInt8]]) -> [[UInt8]] {
        let described = describedRules(of: user)
        if let rebuilt = try? ACLUser.settingUser(nil, name: user.name, rules: described), rebuilt == user {
            return described
        }
        return history
    }
}

/// The users every member agrees on: the replicated rows, and the `default` user as `--redis-password`
/// makes it while no row replaces it (every member is started with the same password).
public struct ACLDefaults: Sendable, Hashable {
    public let password: [UInt8]?

    public init(password: [UInt8]?) {
        self.password = password
    }

    public static let defaultName = Array("default".utf8)

    /// The default user before any ACL SETUSER of it: everything allowed, with the password when one is set.
    public var defaultUser: ACLUser {
        var user = ACLUser.defaultUser()
        if let password {
            // Redis's requirepass: the default user keeps only this password.
            user = (try? ACLUser.settingUser(user, name: Self.defaultName, rules: [Array("resetpass".utf8),
                                                                                  Array(">".utf8) + password])) ?? user
        }
        return user
    }

    /// The rules that make ``defaultUser`` from nothing.
    var defaultRules: [[UInt8]] {
        ACLUserRecord.rules(for: defaultUser, history: ACLUserRecord.describedRules(of: defaultUser))
    }

    /// Every user, by name: the rows' users, and `default` when no row holds it.
    public func users(rows: [(row: [UInt8], body: [UInt8])]) -> [[UInt8]: ACLUser] {
        var users: [[UInt8]: ACLUser] = [:]
        for (row, body) in rows {
            let name = ScriptRows.name(of: row)
            if let user = ACLUserRecord.user(named: name, body: body) { users[name] = user }
        }
        if users[Self.defaultName] == nil { users[Self.defaultName] = defaultUser }
        return users
    }
}

/// ACL SETUSER and ACL DELUSER inside their transaction entry, identically on every replica.
public struct ACLApplier: Sendable {
    let defaults: ACLDefaults

    public init(defaults: ACLDefaults) {
        self.defaults = defaults
    }

    func apply(_ command: ACLCommand, in context: inout TransactionContext) throws(StateMachineHalt) -> RESPValue {
        func read(_ row: [UInt8]) throws(StateMachineHalt) -> [UInt8]? {
            do throws(StorageError) { return try context.scriptRow(row) } catch {
                throw StateMachineHalt(index: context.index, cause: .storage(error))
            }
        }
        switch command {
        case .setUser(let name, let rules):
            let row = ScriptRows.aclUser(name)
            var history: [[UInt8]] = []
            var existing: ACLUser?
            if let body = try read(row), let stored = ACLUserRecord.decode(body) {
                history = stored
                existing = ACLUserRecord.user(named: name, body: body)
            } else if name == ACLDefaults.defaultName {
                history = defaults.defaultRules
                existing = defaults.defaultUser
            }
            let user: ACLUser
            do throws(ACLSetUserError) { user = try ACLUser.settingUser(existing, name: name, rules: rules) } catch {
                return .error(error.description)
            }
            let merged = (try? ACLUser.mergingSelectorArguments(rules)) ?? rules
            try context.putScriptRow(row, body: ACLUserRecord.encode(ACLUserRecord.rules(for: user, history: history + merged)))
            return .ok
        case .deleteUsers(let names):
            if names.contains(ACLDefaults.defaultName) { return .error("ERR The 'default' user cannot be removed") }
            var deleted: Int64 = 0
            // In byte order, so every replica writes the tombstones in the same order (commit timestamps).
            let unique = Set(names).sorted { $0.lexicographicallyPrecedes($1) }
            for name in unique where try read(ScriptRows.aclUser(name)) != nil {
                try context.deleteScriptRow(ScriptRows.aclUser(name))
                deleted += 1
            }
            return .integer(deleted)
        default:
            return .error("ERR this ACL subcommand is not replicated")
        }
    }
}
