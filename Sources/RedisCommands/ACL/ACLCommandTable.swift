/// The commands ACL rules can name, numbered in the order descriptions list them, with their categories.
///
/// Built once from ``ACLCategories/table``. Each top-level command is followed by its subcommands, top-level names
/// sorted, subcommands sorted under their parent: a selector keeps one bit per number (``ACLCommandBits``), and
/// the numbering fixes the order `ACL LIST` and `ACL CAT category` print commands in. Redis prints them in the
/// iteration order of its command dictionary, which its random hash seed reshuffles on every start; sorting
/// gives one stable order instead.
struct ACLCommandTable: Sendable {
    /// One command or subcommand.
    struct Command: Sendable {
        /// The lower-case name rules and replies use: `get`, or `config|get` for a subcommand.
        let fullName: String
        /// The container's number, for a subcommand.
        let parent: Int?
        /// The numbers of the subcommands, for a container (empty otherwise).
        let subcommands: Range<Int>
        /// The categories the command belongs to, one bit per index into ``ACLCategories/names``.
        let categories: UInt32
        /// Whether the command runs whatever the command rules say (AUTH, HELLO …).
        let ignoresCommandRules: Bool

        var isContainer: Bool { !subcommands.isEmpty }
    }

    /// Every command, by number.
    let commands: [Command]
    /// The numbers of the top-level commands, in order.
    let topLevel: [Int]
    /// Each category's members, by category index: containers and subcommands alike.
    let members: [[Int]]
    private let numbers: [String: Int]

    /// The table of redis-server 7.0.15 (``ACLCategories``).
    static let shared = ACLCommandTable(
        categories: ACLCategories.table, categoryNames: ACLCategories.names,
        ignoringRules: ACLCategories.noAuthCommands)

    init(categories table: [String: Set<String>], categoryNames: [String], ignoringRules: Set<String>) {
        precondition(categoryNames.count <= 32, "a command's categories are kept in 32 bits")
        var children: [String: [String]] = [:]
        for name in table.keys where name.contains("|") {
            let parent = String(name.prefix { $0 != "|" })
            precondition(table[parent] != nil, "the subcommand \(name) needs its container \(parent) in the table")
            children[parent, default: []].append(name)
        }
        func categoryBits(_ name: String) -> UInt32 {
            var bits: UInt32 = 0
            for category in table[name] ?? [] {
                guard let index = categoryNames.firstIndex(of: category) else {
                    preconditionFailure("\(name) names the unknown category \(category)")
                }
                bits |= 1 << UInt32(index)
            }
            return bits
        }
        var commands: [Command] = []
        var topLevel: [Int] = []
        for name in table.keys.filter({ !$0.contains("|") }).sorted() {
            let subcommandNames = (children[name] ?? []).sorted()
            let parent = commands.count
            topLevel.append(parent)
            commands.append(
                Command(
                    fullName: name, parent: nil, subcommands: (parent + 1)..<(parent + 1 + subcommandNames.count),
                    categories: categoryBits(name), ignoresCommandRules: ignoringRules.contains(name)))
            for subcommand in subcommandNames {
                commands.append(
                    Command(
                        fullName: subcommand, parent: parent, subcommands: 0..<0, categories: categoryBits(subcommand),
                        ignoresCommandRules: ignoringRules.contains(subcommand)))
            }
        }
        self.commands = commands
        self.topLevel = topLevel
        self.members = categoryNames.indices.map { category in
            commands.indices.filter { commands[$0].categories & (1 << UInt32(category)) != 0 }
        }
        self.numbers = Dictionary(uniqueKeysWithValues: commands.indices.map { (commands[$0].fullName, $0) })
    }

    /// The number of the command a rule names, looked up as Redis does: ASCII case folded, `container|sub` for
    /// a subcommand (a bare container names itself), nil for an unknown name, a `|` after a command without
    /// subcommands, or more than one `|`.
    func number(named name: some Collection<UInt8>) -> Int? {
        let parts = name.split(separator: UInt8(ascii: "|"), maxSplits: 2, omittingEmptySubsequences: false)
        guard !name.isEmpty, parts.count <= 2, let base = numbers[Self.folded(parts[0])] else { return nil }
        guard parts.count == 2 else { return base }
        guard commands[base].isContainer else { return nil }
        return numbers[commands[base].fullName + "|" + Self.folded(parts[1])]
    }

    /// The number of the command a request runs: `arguments[0]`, or a container's subcommand `arguments[1]`;
    /// nil when Redis would answer that the command (or subcommand) is unknown.
    func number(forRequest arguments: [[UInt8]]) -> Int? {
        guard let first = arguments.first, !first.contains(UInt8(ascii: "|")), let base = number(named: first) else {
            return nil
        }
        guard commands[base].isContainer, arguments.count > 1 else { return base }
        let subcommand = arguments[1]
        guard !subcommand.contains(UInt8(ascii: "|")) else { return nil }
        return numbers[commands[base].fullName + "|" + Self.folded(subcommand)]
    }

    /// The index into ``ACLCategories/names`` of a category named in any ASCII case.
    func category(named name: some Collection<UInt8>) -> Int? {
        let folded = Self.folded(name)
        return ACLCategories.names.firstIndex(of: folded)
    }

    /// Sets `value` for every command of `category` in `bits`, with a container's subcommands, as a
    /// `+@category` or `-@category` rule does.
    func set(category: Int, to value: Bool, in bits: inout ACLCommandBits) {
        for number in members[category] { set(number, to: value, in: &bits) }
    }

    /// Sets `value` for one command in `bits`, and for all of a container's subcommands (`+config`).
    func set(_ number: Int, to value: Bool, in bits: inout ACLCommandBits) {
        bits[number] = value
        for subcommand in commands[number].subcommands { bits[subcommand] = value }
    }

    /// How many commands of `category` are set and clear in `bits`.
    func count(category: Int, in bits: ACLCommandBits) -> (set: Int, clear: Int) {
        var set = 0
        for number in members[category] where bits[number] { set += 1 }
        return (set, members[category].count - set)
    }

    /// The ASCII lower case of `bytes`, as the name tables hold them.
    static func folded(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// One bit per command of an ``ACLCommandTable``: the commands a selector allows.
struct ACLCommandBits: Hashable, Sendable {
    private var words: [UInt64]

    /// `count` bits, all set or all clear.
    init(count: Int, allSet: Bool) {
        words = Array(repeating: allSet ? ~0 : 0, count: (count + 63) / 64)
        if allSet, count % 64 != 0 { words[words.count - 1] = (1 << UInt64(count % 64)) - 1 }
    }

    /// Whether every one of `count` commands is allowed.
    func allSet(count: Int) -> Bool { self == ACLCommandBits(count: count, allSet: true) }

    /// Whether command `number` is allowed.
    subscript(number: Int) -> Bool {
        get { words[number / 64] & (1 << UInt64(number % 64)) != 0 }
        set {
            if newValue {
                words[number / 64] |= 1 << UInt64(number % 64)
            } else {
                words[number / 64] &= ~(1 << UInt64(number % 64))
            }
        }
    }
}
