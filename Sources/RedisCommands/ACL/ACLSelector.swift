/// One set of command, key and channel permissions: a user's root permissions, or one of its `(…)` selectors.
///
/// A request is allowed when one selector allows all of it: the command, every key and every channel. The rules
/// apply in order over every command, as in Redis 7.0: `+@all -@write` first allows everything, then takes the
/// write commands away, and a later `+set` gives one back.
public struct ACLSelector: Hashable, Sendable {
    /// The commands allowed, one bit per command of ``ACLCommandTable/shared``.
    var commands: ACLCommandBits
    /// Whether `+@all` (or `allcommands`) was applied and not undone by `-@all`: Redis lets such a selector run
    /// commands added to the server later, and describes it starting from `+@all` rather than `-@all`.
    public internal(set) var allowsFutureCommands: Bool
    /// First arguments allowed for an otherwise denied command (`+select|0`), by command number, in the order
    /// they were added.
    var firstArguments: [Int: [[UInt8]]]
    /// Whether every key may be used (`allkeys`, `~*`).
    public internal(set) var allowsAllKeys: Bool
    /// The key patterns, in the order they were added (empty with ``allowsAllKeys``).
    public internal(set) var keyPatterns: [ACLKeyPattern]
    /// Whether every channel may be used (`allchannels`, `&*`).
    public internal(set) var allowsAllChannels: Bool
    /// The channel patterns, in the order they were added (empty with ``allowsAllChannels``).
    public internal(set) var channelPatterns: [[UInt8]]

    static var table: ACLCommandTable { ACLCommandTable.shared }

    /// A selector that allows nothing, except every channel when `allChannels` (Redis's `acl-pubsub-default`).
    init(allChannels: Bool) {
        commands = ACLCommandBits(count: Self.table.commands.count, allSet: false)
        allowsFutureCommands = false
        firstArguments = [:]
        allowsAllKeys = false
        keyPatterns = []
        allowsAllChannels = allChannels
        channelPatterns = []
    }

    /// Applies one selector rule: keys, channels or commands (user rules such as `on` or `>password` are
    /// ``ACLUser``'s).
    ///
    /// - Throws: the reason Redis 7.0.15 gives, checked in Redis's order (a key pattern after `allkeys` is
    ///   refused for that before its syntax is read).
    mutating func apply(_ rule: [UInt8]) throws(ACLRuleError.Reason) {
        let word = ACLRules.cString(rule)
        func isKeyword(_ keyword: String) -> Bool { ACLRules.isKeyword(word, keyword) }
        if isKeyword("allkeys") || isKeyword("~*") {
            allowsAllKeys = true
            keyPatterns = []
        } else if isKeyword("resetkeys") {
            allowsAllKeys = false
            keyPatterns = []
        } else if isKeyword("allchannels") || isKeyword("&*") {
            allowsAllChannels = true
            channelPatterns = []
        } else if isKeyword("resetchannels") {
            allowsAllChannels = false
            channelPatterns = []
        } else if isKeyword("allcommands") || isKeyword("+@all") {
            setAllCommands(true)
        } else if isKeyword("nocommands") || isKeyword("-@all") {
            setAllCommands(false)
        } else if rule.first == UInt8(ascii: "~") || rule.first == UInt8(ascii: "%") {
            try addKeyPattern(rule)
        } else if rule.first == UInt8(ascii: "&") {
            try addChannelPattern(rule)
        } else if let sign = word.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            if word.count > 1 && word[1] == UInt8(ascii: "@") {
                guard let category = Self.table.category(named: word.dropFirst(2)) else {
                    throw .unknownCommandOrCategory
                }
                setCategory(category, to: sign == UInt8(ascii: "+"))
            } else if sign == UInt8(ascii: "+") {
                try allowCommand(word.dropFirst())
            } else {
                guard let number = Self.table.number(named: word.dropFirst()) else { throw .unknownCommandOrCategory }
                setCommand(number, to: false)
            }
        } else {
            throw .syntaxError
        }
    }

    private mutating func setAllCommands(_ allowed: Bool) {
        commands = ACLCommandBits(count: Self.table.commands.count, allSet: allowed)
        allowsFutureCommands = allowed
        firstArguments = [:]
    }

    /// `+@category` / `-@category`: every command of the category, and all subcommands of a container in it.
    private mutating func setCategory(_ category: Int, to allowed: Bool) {
        for number in Self.table.members[category] { setCommand(number, to: allowed) }
    }

    /// `+cmd` / `-cmd`: the command with all its subcommands; its first arguments are forgotten.
    private mutating func setCommand(_ number: Int, to allowed: Bool) {
        Self.table.set(number, to: allowed, in: &commands)
        firstArguments[number] = nil
    }

    /// `+cmd`, `+container|sub`, or `+cmd|first-arg` (the last `|` splits off the first argument).
    private mutating func allowCommand(_ name: ArraySlice<UInt8>) throws(ACLRuleError.Reason) {
        guard let bar = name.lastIndex(of: UInt8(ascii: "|")) else {
            guard let number = Self.table.number(named: name) else { throw .unknownCommandOrCategory }
            setCommand(number, to: true)
            return
        }
        guard let number = Self.table.number(named: name[..<bar]) else { throw .unknownCommandOrCategory }
        let command = Self.table.commands[number]
        guard command.parent == nil else { throw .firstArgumentOfSubcommand }
        let argument = Array(name[(bar + 1)...])
        guard !argument.isEmpty else { throw .syntaxError }
        if command.isContainer {
            guard let subcommand = Self.table.number(named: name) else { throw .unknownCommandOrCategory }
            setCommand(subcommand, to: true)
        } else if !(firstArguments[number] ?? []).contains(where: { ACLRules.equalIgnoringCase($0, argument) }) {
            firstArguments[number, default: []].append(argument)
        }
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern` (flags in either order and case; `%R` alone is
    /// `%R~` with an empty pattern, as in Redis 7.0.15). A pattern already present gains the new permissions.
    private mutating func addKeyPattern(_ rule: [UInt8]) throws(ACLRuleError.Reason) {
        guard !allowsAllKeys else { throw .keyPatternAfterAllKeys }
        var permissions: ACLKeyPermissions = []
        var offset = 1
        if rule[0] == UInt8(ascii: "%") {
            while offset < rule.count {
                let flag = rule[offset] & ~0x20
                offset += 1
                if rule[offset - 1] == UInt8(ascii: "~") { break }
                if flag == UInt8(ascii: "R"), !permissions.contains(.read) {
                    permissions.insert(.read)
                } else if flag == UInt8(ascii: "W"), !permissions.contains(.write) {
                    permissions.insert(.write)
                } else {
                    throw .syntaxError
                }
            }
            guard !permissions.isEmpty else { throw .syntaxError }
        } else {
            permissions = [.read, .write]
        }
        let pattern = Array(rule[offset...])
        guard !ACLRules.hasSpaceOrNUL(pattern) else { throw .syntaxError }
        if let existing = keyPatterns.firstIndex(where: { $0.pattern == pattern }) {
            keyPatterns[existing].permissions.formUnion(permissions)
        } else {
            keyPatterns.append(ACLKeyPattern(pattern: pattern, permissions: permissions))
        }
    }

    /// `&pattern`; a pattern already present is not added twice.
    private mutating func addChannelPattern(_ rule: [UInt8]) throws(ACLRuleError.Reason) {
        guard !allowsAllChannels else { throw .channelPatternAfterAllChannels }
        let pattern = Array(rule.dropFirst())
        guard !ACLRules.hasSpaceOrNUL(pattern) else { throw .syntaxError }
        if !channelPatterns.contains(pattern) { channelPatterns.append(pattern) }
    }
}
