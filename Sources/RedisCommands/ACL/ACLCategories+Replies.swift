import RESP

extension ACLCategories {
    /// `ACL CAT`'s reply: the category names in Redis's order.
    public static func categories() -> RESPValue {
        .array(names.map { .bulk($0) })
    }

    /// `ACL CAT category`'s reply: the commands and subcommands of the category (any ASCII case), or Redis's
    /// error for an unknown one (`ERR Unknown category 'x'`, the name cut at 128 bytes).
    ///
    /// Redis lists them in its command dictionary's order, which changes with every server start; here each
    /// command comes in sorted order, a container before its subcommands (``ACLCommandTable``).
    public static func commands(in category: [UInt8]) -> RESPValue {
        let table = ACLCommandTable.shared
        guard let index = table.category(named: ACLRules.cString(category)) else {
            let shown = String(decoding: ACLRules.cString(category).prefix(128), as: UTF8.self)
            return .error("ERR Unknown category '\(shown)'")
        }
        return .array(table.members[index].map { .bulk(table.commands[$0].fullName) })
    }
}
