extension ACLSelector {
    /// The command rules `ACL LIST` and `ACL GETUSER` print for this selector (`-@all +@read -get`), computed
    /// from the allowed commands as Redis 7.0 computes them, not replayed from the rules given.
    ///
    /// Redis starts from `+@all` when the selector may run future commands and from `-@all` otherwise, then adds
    /// (or removes) the category that best fits what is left, again and again, and finally names single commands
    /// and first arguments to make up the difference. The categories and their order match Redis exactly; the
    /// single commands are the same set, but in the table's sorted order where Redis uses the order of its
    /// command dictionary, which changes with every server start.
    public func commandRules() -> [UInt8] {
        let table = Self.table
        let additive = !allowsFutureCommands
        var words: [[UInt8]] = [Array((additive ? "-@all" : "+@all").utf8)]
        var described = ACLCommandBits(count: table.commands.count, allSet: !additive)
        var remaining = commands
        var applied = Set<Int>()
        while let category = bestCategory(remaining: remaining, additive: additive, applied: applied) {
            table.set(category: category, to: additive, in: &described)
            table.set(category: category, to: !additive, in: &remaining)
            words.append(Array(((additive ? "+@" : "-@") + ACLCategories.names[category]).utf8))
            applied.insert(category)
        }
        for number in table.topLevel {
            describeDifference(number, described: &described, into: &words)
            for subcommand in table.commands[number].subcommands {
                describeDifference(subcommand, described: &described, into: &words)
            }
            guard !commands[number], let arguments = firstArguments[number] else { continue }
            for argument in arguments {
                words.append(Array(("+" + table.commands[number].fullName + "|").utf8) + argument)
            }
        }
        precondition(described == commands, "the described command rules must allow exactly the selector's commands")
        return Array(words.joined(separator: [UInt8(ascii: " ")]))
    }

    /// The category Redis's description adds next: one with more commands in common with what is left than
    /// commands that differ, the fewest differences first, then the most in common, then the earliest in
    /// ``ACLCategories/names``; nil when none is left.
    private func bestCategory(remaining: ACLCommandBits, additive: Bool, applied: Set<Int>) -> Int? {
        var best: Int?
        var fewestDifferences = Int(Int32.max)
        var mostInCommon = 0
        for category in ACLCategories.names.indices where !applied.contains(category) {
            let (set, clear) = Self.table.count(category: category, in: remaining)
            let differences = additive ? clear : set
            let inCommon = additive ? set : clear
            guard inCommon > differences else { continue }
            if differences < fewestDifferences || (differences == fewestDifferences && inCommon > mostInCommon) {
                best = category
                fewestDifferences = differences
                mostInCommon = inCommon
            }
        }
        return best
    }

    /// Names `+cmd` or `-cmd` when the description so far disagrees with the selector about the command.
    private func describeDifference(_ number: Int, described: inout ACLCommandBits, into words: inout [[UInt8]]) {
        let allowed = commands[number]
        guard described[number] != allowed else { return }
        words.append(Array(((allowed ? "+" : "-") + Self.table.commands[number].fullName).utf8))
        Self.table.set(number, to: allowed, in: &described)
    }

    /// The key patterns as `ACL GETUSER` prints them: `~*`, or each pattern (`~a %R~b %W~c`) separated by spaces.
    public func keysDescription() -> [UInt8] {
        guard !allowsAllKeys else { return Array("~*".utf8) }
        return Array(keyPatterns.map(Self.described).joined(separator: [UInt8(ascii: " ")]))
    }

    /// The channel patterns as `ACL GETUSER` prints them: `&*`, or each pattern (`&a &b`) separated by spaces.
    public func channelsDescription() -> [UInt8] {
        guard !allowsAllChannels else { return Array("&*".utf8) }
        return Array(channelPatterns.map { [UInt8(ascii: "&")] + $0 }.joined(separator: [UInt8(ascii: " ")]))
    }

    /// The selector as `ACL LIST` prints it: keys, channels (`resetchannels` first unless all are allowed), then
    /// the command rules (`~a resetchannels &c -@all +get`).
    public func rulesDescription() -> [UInt8] {
        var text: [UInt8] = []
        if allowsAllKeys {
            text += Array("~* ".utf8)
        } else {
            for pattern in keyPatterns { text += Self.described(pattern) + [UInt8(ascii: " ")] }
        }
        if allowsAllChannels {
            text += Array("&* ".utf8)
        } else {
            text += Array("resetchannels ".utf8)
            for pattern in channelPatterns { text += [UInt8(ascii: "&")] + pattern + [UInt8(ascii: " ")] }
        }
        return text + commandRules()
    }

    private static func described(_ pattern: ACLKeyPattern) -> [UInt8] {
        switch pattern.permissions {
        case [.read, .write]: return [UInt8(ascii: "~")] + pattern.pattern
        case .read: return Array("%R~".utf8) + pattern.pattern
        case .write: return Array("%W~".utf8) + pattern.pattern
        default: preconditionFailure("a key pattern always has a permission")
        }
    }
}
