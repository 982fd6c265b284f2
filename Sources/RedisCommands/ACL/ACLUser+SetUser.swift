extension ACLUser {
    /// `ACL SETUSER name rules…`: the user after every rule, or the error Redis answers, all or nothing.
    ///
    /// Selector arguments are merged first (``mergingSelectorArguments(_:)``), then each rule is applied in
    /// order to a copy of `existing` (or to a new user when there is none).
    ///
    /// - Parameters:
    ///   - existing: the user of that name, if there is one.
    ///   - name: the user name (`ACL SETUSER`'s first argument).
    ///   - rules: the arguments after the name.
    /// - Throws: ``ACLSetUserError``; nothing is changed then.
    public static func settingUser(
        _ existing: ACLUser?, name: [UInt8], rules: [[UInt8]],
        channelsAllowedByDefault: Bool = false
    ) throws(ACLSetUserError) -> ACLUser {
        guard !ACLRules.hasSpaceOrNUL(name) else { throw .invalidUserName }
        let merged = try mergingSelectorArguments(rules)
        var user = existing ?? ACLUser(name: name, channelsAllowedByDefault: channelsAllowedByDefault)
        for rule in merged {
            do throws(ACLRuleError) {
                try user.apply(rule: rule)
            } catch {
                throw .invalidRule(error)
            }
        }
        return user
    }

    /// Joins a selector spread over several arguments into one rule, as Redis does: an argument that starts with
    /// `(` but does not end with `)` opens a selector, and the following arguments join it, separated by a space,
    /// up to one that ends with `)`.
    ///
    /// A second opening argument before the close starts the selector again, dropping what was gathered, as in
    /// Redis 7.0.15 (`(+get`, `(+set`, `~a)` make `(+set ~a)`).
    ///
    /// - Throws: ``ACLSetUserError/unmatchedParenthesis(argument:)`` when the last selector is not closed.
    public static func mergingSelectorArguments(_ arguments: [[UInt8]]) throws(ACLSetUserError) -> [[UInt8]] {
        var merged: [[UInt8]] = []
        var open: (argument: [UInt8], text: [UInt8])?
        for argument in arguments {
            let closes = argument.last == UInt8(ascii: ")")
            if argument.first == UInt8(ascii: "("), !closes {
                open = (argument, argument)
            } else if let selector = open {
                // Redis appends the argument as a C string: a NUL ends it.
                let text = selector.text + [UInt8(ascii: " ")] + ACLRules.cString(argument)
                if closes {
                    merged.append(text)
                    open = nil
                } else {
                    open = (selector.argument, text)
                }
            } else {
                merged.append(argument)
            }
        }
        if let selector = open { throw .unmatchedParenthesis(argument: selector.argument) }
        return merged
    }
}
