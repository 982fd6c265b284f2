import RESP

extension ACLUser {
    /// The line `ACL LIST` prints for the user (`user alice on #<digest> ~keys:* resetchannels -@all +get`).
    ///
    /// Bytes of the name or a pattern that are not UTF-8 become U+FFFD; ``listEntry()`` keeps them.
    public func describe() -> String {
        String(decoding: listEntry(), as: UTF8.self)
    }

    /// The bytes `ACL LIST` replies for the user: `user`, the name, then ``rulesDescription()``.
    public func listEntry() -> [UInt8] {
        Array("user ".utf8) + name + [UInt8(ascii: " ")] + rulesDescription()
    }

    /// The user's rules as Redis 7.0.15 describes them (in `ACL LIST` and its ACL file): the flags (`on`/`off`,
    /// `nopass`, `skip-sanitize-payload`, `sanitize-payload`), `#digest` for each password, the root
    /// permissions, then each selector in parentheses.
    ///
    /// The description is recomputed from the permissions, not replayed (``ACLSelector/commandRules()``).
    public func rulesDescription() -> [UInt8] {
        var text: [UInt8] = []
        for flag in flagNames { text += Array(flag.utf8) + [UInt8(ascii: " ")] }
        for digest in passwordDigests { text += Array("#\(digest) ".utf8) }
        text += root.rulesDescription()
        for selector in selectors { text += Array(" (".utf8) + selector.rulesDescription() + [UInt8(ascii: ")")] }
        return text
    }

    /// The flags `ACL GETUSER` lists, in Redis's order.
    public var flagNames: [String] {
        var names = [isEnabled ? "on" : "off"]
        if acceptsAnyPassword { names.append("nopass") }
        switch payloadSanitization {
        case .skip: names.append("skip-sanitize-payload")
        case .sanitize: names.append("sanitize-payload")
        case nil: break
        }
        return names
    }

    /// `ACL GETUSER`'s reply: a map (an array of pairs under RESP2) of `flags` (a set), `passwords`, the root
    /// permissions' `commands`, `keys` and `channels`, and `selectors`, an array of maps with the same three
    /// fields.
    public func getUser() -> RESPValue {
        var fields: [RESPValue.Pair] = [
            RESPValue.Pair(.bulk("flags"), .set(flagNames.map { .bulk($0) })),
            RESPValue.Pair(.bulk("passwords"), .array(passwordDigests.map { .bulk($0) })),
        ]
        fields += Self.permissionFields(root)
        fields.append(RESPValue.Pair(.bulk("selectors"), .array(selectors.map { .map(Self.permissionFields($0)) })))
        return .map(fields)
    }

    private static func permissionFields(_ selector: ACLSelector) -> [RESPValue.Pair] {
        [
            RESPValue.Pair(.bulk("commands"), .bulkString(selector.commandRules())),
            RESPValue.Pair(.bulk("keys"), .bulkString(selector.keysDescription())),
            RESPValue.Pair(.bulk("channels"), .bulkString(selector.channelsDescription())),
        ]
    }
}
