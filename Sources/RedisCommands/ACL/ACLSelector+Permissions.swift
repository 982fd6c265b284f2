extension ACLSelector {
    /// Whether the selector lets command `number` run, given the request's first argument (Redis checks
    /// `+cmd|first-arg` rules against it, in any ASCII case, as a C string).
    func mayRun(_ number: Int, firstArgument: [UInt8]?) -> Bool {
        let command = Self.table.commands[number]
        if command.ignoresCommandRules || commands[number] { return true }
        guard let firstArgument, let allowed = firstArguments[number] else { return false }
        return allowed.contains { ACLRules.equalIgnoringCase($0, firstArgument) }
    }

    /// Whether the selector lets a command use `key` with these permissions: `allkeys`, or a pattern with at
    /// least the permissions needed that matches the key (with none needed, any matching pattern will do).
    public func mayAccess(key: [UInt8], needing permissions: ACLKeyPermissions) -> Bool {
        if allowsAllKeys { return true }
        return keyPatterns.contains {
            $0.permissions.isSuperset(of: permissions) && GlobPattern.matches($0.pattern, key)
        }
    }

    /// Whether the selector lets a command use `channel`: `allchannels`, or a pattern that matches it; for
    /// `PSUBSCRIBE` (`isPattern`) the pattern must be the channel pattern itself.
    ///
    /// Redis compares a subscribed pattern with `strcmp`, so the channel counts up to its first NUL byte.
    public func mayUse(channel: [UInt8], isPattern: Bool) -> Bool {
        if allowsAllChannels { return true }
        if isPattern {
            let literal = ACLRules.cString(channel)
            return channelPatterns.contains(literal)
        }
        return channelPatterns.contains { GlobPattern.matches($0, channel) }
    }

    /// What, if anything, the selector denies of a request: the command first, then each key in order, then each
    /// channel in order.
    func denial(_ number: Int, arguments: [[UInt8]], keys: [ACLKeyAccess], channels: [ACLChannelAccess])
        -> ACLDenial?
    {
        guard mayRun(number, firstArgument: arguments.count > 1 ? arguments[1] : nil) else { return .command }
        if !allowsAllKeys {
            for key in keys where !mayAccess(key: arguments[key.position], needing: key.permissions) {
                return .key(position: key.position)
            }
        }
        if !allowsAllChannels {
            for channel in channels
            where !mayUse(channel: arguments[channel.position], isPattern: channel.isPattern) {
                return .channel(position: channel.position)
            }
        }
        return nil
    }
}
