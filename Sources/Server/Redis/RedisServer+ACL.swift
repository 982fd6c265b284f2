import Foundation
import KV
import NIOCore
import RESP
import RedisCommands
import Synchronization

/// This node's view of the ACL users: the replicated rows as applied here, re-read when the node has applied
/// something since the last read (so a change made through any member holds here once this member applied
/// it), plus the `default` user of `--redis-password` while no row replaces it.
final class ACLDirectory: Sendable {
    private let backend: any RedisBackend
    private let defaults: ACLDefaults
    private let cache = Mutex<(generation: UInt64, users: [[UInt8]: ACLUser])?>(nil)

    init(backend: any RedisBackend, defaults: ACLDefaults) {
        self.backend = backend
        self.defaults = defaults
    }

    var users: [[UInt8]: ACLUser] {
        let generation = backend.applied.generation
        if let cached = cache.withLock({ $0 }), cached.generation == generation { return cached.users }
        let users = (try? backend.readLocal(.aclUsers)).map(users(in:))
            ?? [ACLDefaults.defaultName: defaults.defaultUser]
        cache.withLock { $0 = (generation, users) }
        return users
    }

    func user(_ name: [UInt8]) -> ACLUser? { users[name] }

    /// Every user, from the rows an `.aclUsers` read answered (and `default` when no row holds it).
    func users(in reply: RESPValue) -> [[UInt8]: ACLUser] {
        guard case .array(let items) = reply else { return defaults.users(rows: []) }
        return defaults.users(rows: items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, case .bulkString(let row) = pair[0],
                  case .bulkString(let body) = pair[1] else { return nil }
            return (row, body)
        })
    }
}

/// ACL LOG: this node's denials (Redis 7.0's fields), most recent first, at most 128; a denial equal to a
/// recent one (same reason, context, object and user, within 60 s) counts on that entry.
final class ACLLog: Sendable {
    struct Entry: Sendable {
        var count: Int64
        let reason: String
        let context: String
        let object: [UInt8]
        let user: [UInt8]
        var created: ContinuousClock.Instant
        var clientInfo: String
    }

    static let maxEntries = 128
    private let entries = Mutex<[Entry]>([])

    func record(reason: String, object: [UInt8], user: [UInt8], context: String = "toplevel", clientInfo: String) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            if let index = entries.firstIndex(where: { $0.reason == reason && $0.context == context && $0.object == object
                && $0.user == user && now - $0.created < .seconds(60) }) {
                var entry = entries.remove(at: index)
                entry.count += 1
                entry.created = now
                entry.clientInfo = clientInfo
                entries.insert(entry, at: 0)
            } else {
                entries.insert(Entry(count: 1, reason: reason, context: context, object: object, user: user,
                                     created: now, clientInfo: clientInfo), at: 0)
                if entries.count > Self.maxEntries { entries.removeLast() }
            }
        }
    }

    func reset() { entries.withLock { $0 = [] } }

    func reply(count: Int?) -> RESPValue {
        let now = ContinuousClock.now
        return .array(entries.withLock { Array($0.prefix(count ?? 10)) }.map { entry in
            let age = now - entry.created
            let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
            return .map([
                .init(.bulk("count"), .integer(entry.count)), .init(.bulk("reason"), .bulk(entry.reason)),
                .init(.bulk("context"), .bulk(entry.context)), .init(.bulk("object"), .bulkString(entry.object)),
                .init(.bulk("username"), .bulkString(entry.user)), .init(.bulk("age-seconds"), .double(seconds)),
                .init(.bulk("client-info"), .bulk(entry.clientInfo)),
            ])
        })
    }
}

extension RedisServer {
    /// Applies ACL changes to open connections as Redis does: whenever this member applied an entry that
    /// changed the users, a connection whose user was deleted is closed, and so is a subscriber whose user may
    /// no longer use one of its channels or patterns. Ends when the node stops applying (shutdown).
    func enforceACLChanges() async {
        var seen = backend.applied.generation
        var last = aclDirectory.users
        while true {
            guard await backend.applied.wait(after: seen, until: nil) == .applied else { return }
            seen = backend.applied.generation
            let users = aclDirectory.users
            guard users != last else { continue }
            last = users
            var doomed: [Int64] = []
            for (id, client) in connections.clients {
                guard let user = users[Array(client.user.utf8)] else {
                    doomed.append(id)
                    continue
                }
                let lost = pubSubHub.subscriptions(of: id).contains { kind, name in
                    !user.mayUse(channel: name, isPattern: kind == .pattern)
                }
                if lost { doomed.append(id) }
            }
            if !doomed.isEmpty {
                logger.info("closing connections whose ACL user was deleted or lost a subscribed channel",
                            metadata: ["connections": "\(doomed.count)"])
                _ = connections.kill(ids: doomed, addresses: [], sparing: nil)
            }
        }
    }

    /// The ACL check of a request about to run: nil when allowed, else the NOPERM reply (logged in ACL LOG).
    func aclRefusal(_ request: RedisRequest, arguments: [[UInt8]], label name: String, session: ConnectionSession)
        -> RESPValue?
    {
        if case .reply = request { return nil }
        guard session.isAuthenticated else { return nil }
        guard let user = aclDirectory.user(session.userName) else {
            return .error("NOPERM the user this connection authenticated as no longer exists; AUTH again")
        }
        if user.isUnrestricted { return nil }
        // An unknown subcommand is answered as such by its command, before any permission check (as in Redis).
        if name.contains("|"), ACLCategories.table[name] == nil { return nil }
        guard let denial = user.denial(arguments: arguments, keys: ACLKeyAccess.keys(of: arguments)) else { return nil }
        let object: [UInt8]
        let reason: String
        switch denial {
        case .command: (reason, object) = ("command", Array(name.utf8))
        case .key(let position): (reason, object) = ("key", arguments[position])
        case .channel(let position): (reason, object) = ("channel", arguments[position])
        }
        aclLog.record(reason: reason, object: object, user: session.userName,
                      clientInfo: clientLines([session.clientID], session: session, command: name))
        return .error(denial.noPermissionError(commandName: name))
    }

    /// `ACL …`.
    func acl(_ command: ACLCommand, arguments: [[UInt8]], session: ConnectionSession) async -> RESPValue {
        do throws(BackendError) {
            if command.isReplicated {
                let entry = TransactionEntry(proposedTS: 0, nowMillis: 0, watches: [], commands: [arguments])
                guard let replies = try await backend.execute(entry), replies.count == 1 else {
                    return .error("ERR the ACL entry was answered with something other than its reply")
                }
                // The change applied on the leader; wait until this member applied it too, so this client's next
                // command (an AUTH as the new user, say) is checked against it here.
                _ = try? await backend.read(.aclUsers)
                return replies[0]
            }
            // A read barrier first, so a change acknowledged through any member is seen.
            func users() async throws(BackendError) -> [[UInt8]: ACLUser] {
                aclDirectory.users(in: try await backend.read(.aclUsers))
            }
            func sortedNames(_ users: [[UInt8]: ACLUser]) -> [[UInt8]] {
                users.keys.sorted { $0.lexicographicallyPrecedes($1) }
            }
            switch command {
            case .getUser(let name):
                return try await users()[name]?.getUser() ?? .null
            case .list:
                let all = try await users()
                return .array(sortedNames(all).map { .bulkString(all[$0]!.listEntry()) })
            case .users:
                return .array(sortedNames(try await users()).map { .bulkString($0) })
            case .whoAmI:
                return .bulkString(session.userName)
            case .categories(let category):
                return category.map(ACLCategories.commands(in:)) ?? ACLCategories.categories()
            case .dryRun(let name, let request):
                guard let user = try await users()[name] else {
                    return .error("ERR User '\(String(decoding: name, as: UTF8.self))' not found")
                }
                guard ACLUser.commandName(arguments: request) != nil else {
                    return .error("ERR Command '\(String(decoding: request[0], as: UTF8.self))' not found")
                }
                guard RedisCommandParser.arityAccepts(request) else {
                    return .error("ERR wrong number of arguments for '\(RedisServer.commandLabel(request))' command")
                }
                return user.dryRun(arguments: request, keys: ACLKeyAccess.keys(of: request))
            case .log(let count):
                return aclLog.reply(count: count)
            case .resetLog:
                aclLog.reset()
                return .ok
            case .generatePassword(let bits):
                let digits = (bits + 3) / 4
                let hex = Array("0123456789abcdef".utf8)
                return .bulkString((0..<digits).map { _ in hex[Int.random(in: 0..<16)] })
            case .file:
                return .error("ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                    + "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
                    + "configuration file set) in order to store users in the Redis configuration.")
            case .help:
                return .array(Self.aclHelp.map { .simpleString($0) })
            case .setUser, .deleteUsers:
                preconditionFailure("replicated above")
            }
        } catch {
            return .error(error.redisMessage)
        }
    }

    static let aclHelp = [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ]
}
