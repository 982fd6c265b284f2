import RESP

extension ACLUser {
    /// Whether the user may run the command, whatever its keys and channels: one selector allows it.
    ///
    /// - Parameters:
    ///   - command: the command name, in any case (`GET`, `config`).
    ///   - subcommand: the argument after the name: a container's subcommand (`get` for `CONFIG GET`), or the
    ///     first argument that `+cmd|first-arg` rules are checked against (`0` for `SELECT 0`); nil when the
    ///     request has no other argument.
    /// - Returns: false for a command or subcommand Redis 7.0 does not know. AUTH, HELLO, QUIT and RESET run
    ///   whatever the rules say, as in Redis.
    public func mayRun(command: String, subcommand: String?) -> Bool {
        var arguments = [Array(command.utf8)]
        if let subcommand { arguments.append(Array(subcommand.utf8)) }
        guard let number = ACLSelector.table.number(forRequest: arguments) else { return false }
        return allSelectors.contains { $0.mayRun(number, firstArgument: subcommand.map { Array($0.utf8) }) }
    }

    /// Whether some selector lets the user use `key` this way (Redis's check for keys outside a command's own
    /// key list, as scripts' and modules' key checks).
    public func mayAccess(key: [UInt8], read: Bool, write: Bool) -> Bool {
        var permissions: ACLKeyPermissions = []
        if read { permissions.insert(.read) }
        if write { permissions.insert(.write) }
        return allSelectors.contains { $0.mayAccess(key: key, needing: permissions) }
    }

    /// Whether some selector lets the user use `channel`; with `isPattern` (PSUBSCRIBE) the channel pattern must
    /// be literally one of the selector's patterns (`&news.*` allows `PSUBSCRIBE news.*`, not `news.a*`).
    public func mayUse(channel: [UInt8], isPattern: Bool) -> Bool {
        allSelectors.contains { $0.mayUse(channel: channel, isPattern: isPattern) }
    }

    /// What the user may not do in a request, checked as Redis 7.0 checks a command before running it; nil when
    /// it is allowed.
    ///
    /// Each selector checks the command, then the keys, then the channels (PUBLISH's, SUBSCRIBE's …, found from
    /// the arguments); the request is allowed when one selector allows all of it. Otherwise the denial reported
    /// is Redis's most relevant one: a channel over a key over the command, and between two of a kind the later
    /// argument.
    ///
    /// - Parameters:
    ///   - arguments: the request, the command name first. Answer an unknown command or subcommand (nil from
    ///     ``commandName(arguments:)``) and a wrong argument count before asking.
    ///   - keys: the request's keys (the command's key specs, as `COMMAND GETKEYSANDFLAGS` finds them).
    /// Whether the root permissions allow every command, key and channel (the `default` user's `+@all ~* &*`):
    /// then no request is denied and its keys need not be found.
    public var isUnrestricted: Bool {
        root.allowsAllKeys && root.allowsAllChannels && root.firstArguments.isEmpty
            && root.commands.allSet(count: ACLSelector.table.commands.count)
    }

    public func denial(arguments: [[UInt8]], keys: [ACLKeyAccess]) -> ACLDenial? {
        guard let number = ACLSelector.table.number(forRequest: arguments) else { return .command }
        let channels = Self.channels(of: ACLSelector.table.commands[number].fullName, arguments: arguments)
        var relevant = ACLDenial.command
        for selector in allSelectors {
            guard let denial = selector.denial(number, arguments: arguments, keys: keys, channels: channels) else {
                return nil
            }
            if (denial.rank, denial.position) > (relevant.rank, relevant.position) { relevant = denial }
        }
        return relevant
    }

    /// `ACL DRYRUN user command args…`'s reply once the user is found: `ERR Command '…' not found` for a command
    /// Redis does not know, `OK` when allowed, else the denial's text as a bulk string.
    ///
    /// Redis checks the argument count between the two (`ERR wrong number of arguments for 'get' command`);
    /// that check is the caller's, who knows the arity.
    public func dryRun(arguments: [[UInt8]], keys: [ACLKeyAccess]) -> RESPValue {
        guard let name = Self.commandName(arguments: arguments) else {
            return .error("ERR Command '\(ACLRules.printed(arguments.first ?? []))' not found")
        }
        guard let denial = denial(arguments: arguments, keys: keys) else { return .ok }
        return denial.dryRunReply(arguments: arguments, commandName: name)
    }

    /// The full lower-case name Redis gives the command a request runs (`get`, `config|set`), or nil when Redis
    /// 7.0.15 does not know the command or the container's subcommand.
    public static func commandName(arguments: [[UInt8]]) -> String? {
        ACLSelector.table.number(forRequest: arguments).map { ACLSelector.table.commands[$0].fullName }
    }

    /// The channels a request names, as Redis's ACL check finds them: PUBLISH's and SPUBLISH's first argument,
    /// every argument of SUBSCRIBE and SSUBSCRIBE, and every pattern of PSUBSCRIBE.
    static func channels(of command: String, arguments: [[UInt8]]) -> [ACLChannelAccess] {
        switch command {
        case "publish", "spublish":
            return arguments.count > 1 ? [ACLChannelAccess(position: 1, isPattern: false)] : []
        case "subscribe", "ssubscribe":
            return (1..<max(arguments.count, 1)).map { ACLChannelAccess(position: $0, isPattern: false) }
        case "psubscribe":
            return (1..<max(arguments.count, 1)).map { ACLChannelAccess(position: $0, isPattern: true) }
        default:
            return []
        }
    }
}
