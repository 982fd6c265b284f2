/// A Redis 7.0 ACL user: whether it may log in, its passwords, and what it may run, touch and subscribe to.
///
/// A pure value: `ACL SETUSER` applies rules to a copy (``settingUser(_:name:rules:channelsAllowedByDefault:)``),
/// `ACL LIST` and `ACL GETUSER` print it (``describe()``, ``getUser()``), and each request is checked against it
/// (``denial(arguments:keys:)``, ``mayRun(command:subcommand:)``, ``mayAccess(key:read:write:)``,
/// ``mayUse(channel:isPattern:)``). Passwords are kept only as SHA-256 digests, as Redis keeps them.
public struct ACLUser: Hashable, Sendable {
    /// Which of Redis's payload sanitization flags the user carries (`RESTORE` checks); none until set.
    public enum PayloadSanitization: Hashable, Sendable {
        /// `sanitize-payload`, set by `reset`.
        case sanitize
        /// `skip-sanitize-payload`.
        case skip
    }

    /// The user name: any bytes but spaces and NUL.
    public let name: [UInt8]
    /// `on`: the user may authenticate (connections already authenticated keep working after `off`).
    public internal(set) var isEnabled: Bool
    /// `nopass`: any password authenticates the user.
    public internal(set) var acceptsAnyPassword: Bool
    /// `sanitize-payload` or `skip-sanitize-payload`, whichever came last; nil for a user that never had either.
    public internal(set) var payloadSanitization: PayloadSanitization?
    /// The SHA-256 digests of the passwords, in lower-case hex, in the order they were added.
    public internal(set) var passwordDigests: [String]
    /// The permissions given outside parentheses.
    public internal(set) var root: ACLSelector
    /// The `(…)` selectors, in the order they were added.
    public internal(set) var selectors: [ACLSelector]
    /// Whether new selectors and `reset` allow every channel: Redis's `acl-pubsub-default allchannels`. Redis
    /// 7.0 defaults to `resetchannels` (false).
    public let channelsAllowedByDefault: Bool

    /// A new user as `ACL SETUSER name` creates it: off, no password, no commands, keys or channels.
    ///
    /// The name is not checked here; ``settingUser(_:name:rules:channelsAllowedByDefault:)`` refuses spaces and NUL.
    public init(name: [UInt8], channelsAllowedByDefault: Bool = false) {
        self.name = name
        self.channelsAllowedByDefault = channelsAllowedByDefault
        isEnabled = false
        acceptsAnyPassword = false
        payloadSanitization = nil
        passwordDigests = []
        root = ACLSelector(allChannels: channelsAllowedByDefault)
        selectors = []
    }

    /// The `default` user Redis starts with: `on nopass ~* &* +@all`.
    public static func defaultUser(channelsAllowedByDefault: Bool = false) -> ACLUser {
        var user = ACLUser(name: Array("default".utf8), channelsAllowedByDefault: channelsAllowedByDefault)
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            do throws(ACLRuleError) {
                try user.apply(rule: Array(rule.utf8))
            } catch {
                preconditionFailure("the default user's rules are valid: \(error)")
            }
        }
        return user
    }

    /// Applies one rule, as one argument of `ACL SETUSER` (a selector already merged into one `(…)` rule).
    ///
    /// Rules: `on`, `off`, `nopass`, `resetpass`, `>password`, `<password`, `#digest`, `!digest`, `reset`,
    /// `(rules…)`, `clearselectors`, `sanitize-payload`, `skip-sanitize-payload`, and the selector rules
    /// (`~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`, `allkeys`, `resetkeys`, `&pattern`,
    /// `allchannels`, `resetchannels`, `+cmd`, `-cmd`, `+cmd|sub`, `-cmd|sub`, `+cmd|first-arg`, `+@category`,
    /// `-@category`, `allcommands`, `nocommands`), which change the root permissions. Keywords are matched in
    /// any case; an empty rule does nothing.
    ///
    /// - Throws: ``ACLRuleError`` with Redis 7.0.15's reason; the user may then be partly changed (apply a
    ///   request's rules to a copy).
    public mutating func apply(rule: [UInt8]) throws(ACLRuleError) {
        do throws(ACLRuleError.Reason) {
            try applyRule(rule)
        } catch {
            throw ACLRuleError(error, rule: rule)
        }
    }

    private mutating func applyRule(_ rule: [UInt8]) throws(ACLRuleError.Reason) {
        guard let first = rule.first else { return }
        let word = ACLRules.cString(rule)
        func isKeyword(_ keyword: String) -> Bool { ACLRules.isKeyword(word, keyword) }
        if isKeyword("on") {
            isEnabled = true
        } else if isKeyword("off") {
            isEnabled = false
        } else if isKeyword("skip-sanitize-payload") {
            payloadSanitization = .skip
        } else if isKeyword("sanitize-payload") {
            payloadSanitization = .sanitize
        } else if isKeyword("nopass") {
            acceptsAnyPassword = true
            passwordDigests = []
        } else if isKeyword("resetpass") {
            acceptsAnyPassword = false
            passwordDigests = []
        } else if first == UInt8(ascii: ">") || first == UInt8(ascii: "#") {
            let digest = try Self.digest(rule)
            if !passwordDigests.contains(digest) { passwordDigests.append(digest) }
            acceptsAnyPassword = false
        } else if first == UInt8(ascii: "<") || first == UInt8(ascii: "!") {
            let digest = try Self.digest(rule)
            guard let index = passwordDigests.firstIndex(of: digest) else { throw .passwordNotFound }
            passwordDigests.remove(at: index)
        } else if first == UInt8(ascii: "("), rule.last == UInt8(ascii: ")") {
            selectors.append(try selector(from: rule.dropFirst().dropLast()))
        } else if isKeyword("clearselectors") {
            selectors = []
        } else if isKeyword("reset") {
            reset()
        } else {
            try root.apply(rule)
        }
    }

    /// The digest a password rule names: hashed from `>password` / `<password`, as given in `#digest` /
    /// `!digest`.
    private static func digest(_ rule: [UInt8]) throws(ACLRuleError.Reason) -> String {
        let rest = rule.dropFirst()
        if rule[0] == UInt8(ascii: ">") || rule[0] == UInt8(ascii: "<") { return ACLRules.passwordDigest(rest) }
        guard ACLRules.isPasswordDigest(rest) else { throw .invalidPasswordDigest }
        return String(decoding: rest, as: UTF8.self)
    }

    /// A selector made from the rules between its parentheses (split as Redis splits them; see
    /// ``ACLRules/selectorWords(_:)``).
    private func selector(from body: ArraySlice<UInt8>) throws(ACLRuleError.Reason) -> ACLSelector {
        var selector = ACLSelector(allChannels: channelsAllowedByDefault)
        for word in ACLRules.selectorWords(body) ?? [] { try selector.apply(word) }
        return selector
    }

    /// `reset`: back to a new user's state, except that `sanitize-payload` is set.
    private mutating func reset() {
        acceptsAnyPassword = false
        passwordDigests = []
        root.allowsAllKeys = false
        root.keyPatterns = []
        root.allowsAllChannels = channelsAllowedByDefault
        root.channelPatterns = []
        isEnabled = false
        payloadSanitization = .sanitize
        selectors = []
        do throws(ACLRuleError.Reason) {
            try root.apply(Array("-@all".utf8))
        } catch {
            preconditionFailure("-@all is a valid rule")
        }
    }

    /// Whether `password` authenticates the user (`AUTH`): the user is on, and `nopass` or one of its digests.
    ///
    /// Every digest is compared in full, so the time taken does not tell which one matched.
    public func accepts(password: [UInt8]) -> Bool {
        guard isEnabled else { return false }
        if acceptsAnyPassword { return true }
        let digest = Array(ACLRules.passwordDigest(password).utf8)
        var matched = false
        for stored in passwordDigests {
            var difference: UInt8 = 0
            for (left, right) in zip(Array(stored.utf8), digest) { difference |= left ^ right }
            matched = matched || difference == 0
        }
        return matched
    }

    /// The root permissions, then each selector: the order Redis checks them in.
    public var allSelectors: [ACLSelector] { [root] + selectors }
}
