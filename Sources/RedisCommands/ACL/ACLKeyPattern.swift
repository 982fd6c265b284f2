/// What a key pattern lets a user do with the keys it matches.
public struct ACLKeyPermissions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `%R~`: the command reads the key's value (Redis's `access` key flag).
    public static let read = ACLKeyPermissions(rawValue: 1 << 0)
    /// `%W~`: the command inserts, deletes or updates data in the key (`insert`, `delete`, `update` flags).
    public static let write = ACLKeyPermissions(rawValue: 1 << 1)
}

/// A key pattern with its permissions (`~k*` is both, `%R~k*` read only).
public struct ACLKeyPattern: Hashable, Sendable {
    /// The glob pattern, matched as Redis's `stringmatch` does (``GlobPattern``).
    public var pattern: [UInt8]
    /// What the pattern allows: read, write, or both.
    public var permissions: ACLKeyPermissions
}
