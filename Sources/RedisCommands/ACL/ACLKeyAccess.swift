/// A key a request uses, and what it does with it, for ``ACLUser/denial(arguments:keys:)``.
public struct ACLKeyAccess: Hashable, Sendable {
    /// The key's argument index (0 is the command name).
    public var position: Int
    /// What the command does with the key: `read` for Redis's `access` key flag, `write` for `insert`,
    /// `delete` or `update`; none for a key whose value is neither returned nor changed (`EXISTS`, `TYPE`).
    public var permissions: ACLKeyPermissions

    public init(position: Int, permissions: ACLKeyPermissions) {
        self.position = position
        self.permissions = permissions
    }
}

/// A channel a request names (PUBLISH, SUBSCRIBE, PSUBSCRIBE, SPUBLISH, SSUBSCRIBE).
struct ACLChannelAccess: Hashable, Sendable {
    let position: Int
    /// PSUBSCRIBE: the argument is a pattern, allowed only when it is one of the user's channel patterns.
    let isPattern: Bool
}
