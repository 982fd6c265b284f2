extension ACLKeyAccess {
    /// The access a key found by ``CommandKeys`` needs: `read` for its `access` flag, `write` for `insert`,
    /// `delete` or `update`, as Redis maps key-spec flags to ACL permissions.
    init(_ reference: CommandKeys.KeyReference) {
        var permissions: ACLKeyPermissions = []
        if reference.flags.contains(.access) { permissions.insert(.read) }
        if !reference.flags.isDisjoint(with: [.insert, .delete, .update]) { permissions.insert(.write) }
        self.init(position: reference.position, permissions: permissions)
    }

    /// The keys of a request with the access each needs, from the command's key specs (none when the request
    /// names no keys or does not fit its command).
    public static func keys(of arguments: [[UInt8]]) -> [ACLKeyAccess] {
        guard case .success(let references) = CommandKeys.references(arguments) else { return [] }
        return references.map(ACLKeyAccess.init)
    }
}
