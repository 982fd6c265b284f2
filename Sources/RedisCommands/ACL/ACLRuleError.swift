/// An ACL rule that could not be applied: which rule, and why, in Redis 7.0's words.
///
/// ``description`` is the whole error line `ACL SETUSER` answers (`ERR Error in ACL SETUSER modifier '+foo':
/// Unknown command or category name in ACL`). The user the rule was applied to may be half changed: apply a
/// request's rules to a copy and keep it only when every rule applied
/// (``ACLUser/settingUser(_:name:rules:channelsAllowedByDefault:)``).
public struct ACLRuleError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why a rule was refused.
    public enum Reason: Error, Hashable, Sendable {
        /// Not a rule, or a key or channel pattern with a space or NUL in it (Redis's `EINVAL`): fix the rule.
        case syntaxError
        /// `+cmd`, `-cmd`, `+cmd|sub` or `+@category` names nothing Redis knows (`ENOENT`).
        case unknownCommandOrCategory
        /// A key pattern after `allkeys` (`EEXIST`): start with `resetkeys`.
        case keyPatternAfterAllKeys
        /// A channel pattern after `allchannels` (`EISDIR`): start with `resetchannels`.
        case channelPatternAfterAllChannels
        /// `<password` or `!digest` for a password the user does not have (`ENODEV`).
        case passwordNotFound
        /// `#digest` or `!digest` that is not 64 lower-case hex digits (`EBADMSG`).
        case invalidPasswordDigest
        /// `+container|sub|arg`: first arguments can be allowed for commands only, not subcommands (`ECHILD`).
        case firstArgumentOfSubcommand

        /// Redis's text for the reason.
        public var message: String {
            switch self {
            case .syntaxError: return "Syntax error"
            case .unknownCommandOrCategory: return "Unknown command or category name in ACL"
            case .keyPatternAfterAllKeys:
                return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
                    + "any effect. Try 'resetkeys' to start with an empty list of patterns"
            case .channelPatternAfterAllChannels:
                return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
                    + "have any effect. Try 'resetchannels' to start with an empty list of channels"
            case .passwordNotFound: return "The password you are trying to remove from the user does not exist"
            case .invalidPasswordDigest:
                return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
                    + "characters"
            case .firstArgumentOfSubcommand: return "Allowing first-arg of a subcommand is not supported"
            }
        }
    }

    /// Why the rule was refused.
    public let reason: Reason
    /// The rule as given (a selector as merged from its arguments: `(+get ~a)`).
    public let rule: [UInt8]

    /// The error for `rule`, refused for `reason`.
    public init(_ reason: Reason, rule: [UInt8]) {
        self.reason = reason
        self.rule = rule
    }

    /// The error line Redis answers, without the leading `-`.
    ///
    /// Redis prints the rule as a C string, so it stops at a NUL byte; bytes that are not UTF-8 become U+FFFD
    /// here, and CR or LF become spaces when the reply is encoded, as in Redis.
    public var description: String {
        "ERR Error in ACL SETUSER modifier '\(ACLRules.printed(rule))': \(reason.message)"
    }
}
