/// Why `ACL SETUSER` changed nothing: a bad user name, a selector left open, or a rule Redis refuses.
public enum ACLSetUserError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name holds a space or NUL: choose another name.
    case invalidUserName
    /// A `(` argument has no closing `)` argument after it (the argument that opened it).
    case unmatchedParenthesis(argument: [UInt8])
    /// A rule could not be applied.
    case invalidRule(ACLRuleError)

    /// The error line Redis 7.0.15 answers, without the leading `-`.
    public var description: String {
        switch self {
        case .invalidUserName: return "ERR Usernames can't contain spaces or null characters"
        case .unmatchedParenthesis(let argument):
            return "ERR Unmatched parenthesis in acl selector starting at '\(ACLRules.printed(argument))'."
        case .invalidRule(let error): return error.description
        }
    }
}
