import KV

/// Where each supported command's keys sit among its arguments, as Redis 7.0 reports them.
///
/// `COMMAND GETKEYS` and `COMMAND GETKEYSANDFLAGS` answer from ``references(_:)``; `COMMAND INFO` reports each
/// ``Entry``'s legacy first key, last key and step. The lookup follows Redis's order, so that cluster clients
/// route a request exactly as they would against Redis: the command's key specs first (each a place to start
/// and a rule for how many keys follow); when one of them does not fit the arguments (a key count that is not a
/// number, or that runs past the end), or when the keys' flags depend on the arguments (SET … GET), the
/// command's own ``ArgumentScan``, whose keys carry no flags unless the scan sets them.
enum CommandKeys {
    /// What a command does with a key: Redis's key-spec flags.
    struct KeyFlags: OptionSet, Hashable, Sendable {
        let rawValue: UInt16

        /// `RO`: the key is only read.
        static let readOnly = KeyFlags(rawValue: 1 << 0)
        /// `RW`: the key is read and written.
        static let readWrite = KeyFlags(rawValue: 1 << 1)
        /// `OW`: the key is overwritten without being read.
        static let overwrite = KeyFlags(rawValue: 1 << 2)
        /// `RM`: the key is deleted.
        static let remove = KeyFlags(rawValue: 1 << 3)
        /// `access`: the value (or part of it) is returned to the client.
        static let access = KeyFlags(rawValue: 1 << 4)
        /// `update`: the value is replaced or changed.
        static let update = KeyFlags(rawValue: 1 << 5)
        /// `insert`: data is added to the value without changing what is there.
        static let insert = KeyFlags(rawValue: 1 << 6)
        /// `delete`: data is removed from the value.
        static let delete = KeyFlags(rawValue: 1 << 7)
        /// `not_key`: the argument is a shard channel, not a key; GETKEYS leaves it out.
        static let notKey = KeyFlags(rawValue: 1 << 8)
        /// `incomplete`: the spec may miss keys.
        static let incomplete = KeyFlags(rawValue: 1 << 9)
        /// `variable_flags`: the flags depend on the arguments, so the command's ``ArgumentScan`` decides them.
        static let variableFlags = KeyFlags(rawValue: 1 << 10)

        /// Each flag with the name Redis replies, in the order Redis lists them.
        private static let redisNames: [(flag: KeyFlags, name: String)] = [
            (.readOnly, "RO"), (.readWrite, "RW"), (.overwrite, "OW"), (.remove, "RM"), (.access, "access"),
            (.update, "update"), (.insert, "insert"), (.delete, "delete"), (.notKey, "not_key"),
            (.incomplete, "incomplete"), (.variableFlags, "variable_flags"),
        ]

        /// The names `COMMAND GETKEYSANDFLAGS` replies for these flags, in Redis's order.
        var names: [String] {
            Self.redisNames.compactMap { contains($0.flag) ? $0.name : nil }
        }
    }

    /// Where a key spec's first key is.
    enum BeginSearch: Hashable, Sendable {
        /// At this argument (0 is the command name).
        case index(Int)
        /// Right after the first argument equal to `keyword` (ASCII case folded), searched from argument
        /// `startFrom` towards the end (or, when negative, from that far before the end towards the start).
        case keyword(String, startFrom: Int)
    }

    /// How many keys a key spec takes from its first one.
    enum FindKeys: Hashable, Sendable {
        /// Every `keyStep`-th argument from the first key to the last, which is `lastKey` arguments after the
        /// first; when `lastKey` is negative it counts from the end (-1 is the last argument), or, with a
        /// `limit`, stops after 1/`limit` of the arguments left (XREAD's keys, then as many IDs).
        case range(lastKey: Int, keyStep: Int = 1, limit: Int = 0)
        /// The argument `countIndex` after the first says how many keys there are; they start `firstKey`
        /// arguments after the first (EVAL's numkeys).
        case keyCount(countIndex: Int, firstKey: Int, keyStep: Int)
    }

    /// One of a command's key specs: where its keys are and what the command does with them.
    struct KeySpec: Hashable, Sendable {
        let flags: KeyFlags
        let begin: BeginSearch
        let find: FindKeys

        init(_ flags: KeyFlags, _ begin: BeginSearch, _ find: FindKeys) {
            self.flags = flags
            self.begin = begin
            self.find = find
        }
    }

    /// A command's own reading of its arguments, which Redis uses when the key specs do not fit them or when
    /// the flags depend on them.
    enum ArgumentScan: Hashable, Sendable {
        /// A key count at `countIndex`, read as C's `atoi` reads it, then that many keys from `firstKeyIndex`,
        /// then the destination key if there is one; no flags. No keys unless the count is at least 1 and
        /// the keys fit.
        case countedKeys(countIndex: Int, firstKeyIndex: Int, destinationIndex: Int? = nil)
        /// SET: the key at 1, also read (`RW access update`) when a GET option follows the value, else
        /// `OW update`.
        case set
        /// BITFIELD: the key at 1, `RO access` while only complete GET and OVERFLOW operations follow, else
        /// `RW access update`.
        case bitField
        /// XREAD, XREADGROUP: after the options (BLOCK, COUNT, GROUP, NOACK), the first half of the arguments
        /// after STREAMS; no flags. No keys when STREAMS is missing or an odd number of arguments follows.
        case streams
    }

    /// How a command names its keys.
    struct Entry: Hashable, Sendable {
        /// COMMAND INFO's legacy first key position; 0 when the command has no keys or they move (EVAL).
        let firstKey: Int
        /// COMMAND INFO's legacy last key position; negative counts from the end (-1 is the last argument).
        let lastKey: Int
        /// COMMAND INFO's legacy step between keys.
        let keyStep: Int
        /// The key specs, in the order their keys are reported.
        let specs: [KeySpec]
        /// The command's own argument scan, if it has one.
        let scan: ArgumentScan?
        /// Whether the command may be given no key (EVAL … 0): GETKEYS then answers an empty list, not an error.
        let keysOptional: Bool

        init(firstKey: Int, lastKey: Int, keyStep: Int, specs: [KeySpec], scan: ArgumentScan? = nil,
             keysOptional: Bool = false)
        {
            self.firstKey = firstKey
            self.lastKey = lastKey
            self.keyStep = keyStep
            self.specs = specs
            self.scan = scan
            self.keysOptional = keysOptional
        }

        /// A command without keys (PING, KEYS, PUBLISH).
        static let keyless = Entry(firstKey: 0, lastKey: 0, keyStep: 0, specs: [])

        /// A command whose only key is argument `index` (GET, HSET, OBJECT ENCODING).
        static func key(at index: Int, _ flags: KeyFlags) -> Entry {
            Entry(firstKey: index, lastKey: index, keyStep: 1,
                  specs: [KeySpec(flags, .index(index), .range(lastKey: 0))])
        }

        /// Whether GETKEYS may find keys at all: a scan, or a spec that names keys rather than shard channels.
        var hasKeys: Bool {
            scan != nil || specs.contains { !$0.flags.contains(.notKey) }
        }

        /// Whether the flags depend on the arguments, so that the scan, not the specs, finds the keys.
        var hasVariableFlags: Bool {
            specs.contains { $0.flags.contains(.variableFlags) }
        }
    }

    /// A subcommand of a container command (OBJECT, XGROUP, CLIENT …), which Redis describes on its own.
    struct Subcommand: Hashable, Sendable {
        /// Redis arity with the command and subcommand names counted: positive exact, negative at least.
        let arity: Int
        let entry: Entry

        init(arity: Int, _ entry: Entry) {
            self.arity = arity
            self.entry = entry
        }
    }

    /// One key found among a request's arguments.
    struct KeyReference: Hashable, Sendable {
        /// The key's index among the arguments (0 is the command name).
        let position: Int
        let flags: KeyFlags
    }

    /// The keys of the request `arguments` (the command name first, in any case), as `COMMAND GETKEYS` lists
    /// them in Redis 7.0.
    static func keys(_ arguments: [[UInt8]]) -> Result<[[UInt8]], KeyLookupError> {
        references(arguments).map { found in found.map { arguments[$0.position] } }
    }

    /// The keys of the request `arguments` with their flags, as `COMMAND GETKEYSANDFLAGS` lists them.
    ///
    /// The checks come in Redis's order: the command (and a container's subcommand) must be supported, must
    /// take keys, and the arguments must fit its arity; then the specs, or the scan, must find a key unless the
    /// command's keys are optional.
    static func references(_ arguments: [[UInt8]]) -> Result<[KeyReference], KeyLookupError> {
        guard let command = lookup(arguments) else { return .failure(.invalidCommand) }
        let entry = command.entry
        guard entry.hasKeys else { return .failure(.noKeyArguments) }
        let count = arguments.count
        guard command.arity >= 0 ? count == command.arity : count >= -command.arity else {
            return .failure(.wrongArgumentCount)
        }
        let fromSpecs = entry.hasVariableFlags ? nil : keys(from: entry.specs, in: arguments)
        let found = fromSpecs ?? entry.scan.map { scanKeys($0, in: arguments) } ?? []
        if found.isEmpty, !entry.keysOptional { return .failure(.invalidArguments) }
        return .success(found)
    }

    /// The entry and arity that describe `arguments`: a container command's subcommand when one is given (as
    /// Redis looks it up: the bare container describes itself).
    static func lookup(_ arguments: [[UInt8]]) -> (entry: Entry, arity: Int)? {
        guard let nameBytes = arguments.first else { return nil }
        let name = asciiLowercased(nameBytes)
        guard let arity = RedisCommandParser.table[name]?.arity, let entry = table[name] else { return nil }
        guard arguments.count > 1, let children = subcommands[name] else { return (entry, arity) }
        guard let child = children[asciiLowercased(arguments[1])] else { return nil }
        return (child.entry, child.arity)
    }

    /// The keys the specs find, in spec order; nil when a spec does not fit the arguments (Redis then falls
    /// back on the command's scan). A spec whose keyword is absent finds nothing, as in Redis.
    static func keys(from specs: [KeySpec], in arguments: [[UInt8]]) -> [KeyReference]? {
        let count = arguments.count
        var found: [KeyReference] = []
        for spec in specs where !spec.flags.contains(.notKey) {
            var first: Int
            switch spec.begin {
            case .index(let index):
                first = index
            case .keyword(let keyword, let startFrom):
                guard let keywordIndex = position(of: keyword, startingFrom: startFrom, in: arguments) else { continue }
                first = keywordIndex + 1
            }
            let last: Int
            let step: Int
            switch spec.find {
            case .range(let lastKey, let keyStep, let limit):
                step = keyStep
                if lastKey >= 0 {
                    last = first + lastKey
                } else if limit == 0 {
                    last = count + lastKey
                } else {
                    last = first + (count - first) / limit + lastKey
                }
            case .keyCount(let countIndex, let firstKey, let keyStep):
                let countPosition = first + countIndex
                guard countPosition < count, let keyCount = RedisNumber.parseInteger(arguments[countPosition]),
                      keyCount >= 0
                else { return nil }
                step = keyStep
                first += firstKey
                // Redis narrows the count to a C int before adding it: 4294967297 keys is one key.
                last = first + Int(Int32(truncatingIfNeeded: keyCount)) - 1
            }
            guard step > 0, first < count, last < count, last >= first else { return nil }
            for index in stride(from: first, through: last, by: step) {
                found.append(KeyReference(position: index, flags: spec.flags))
            }
        }
        return found
    }

    /// Where `keyword` first appears, searching as Redis does: forward from `startFrom` up to (not including)
    /// the last argument, or, for a negative `startFrom`, backward from that far before the end to argument 1.
    static func position(of keyword: String, startingFrom startFrom: Int, in arguments: [[UInt8]]) -> Int? {
        let count = arguments.count
        let start = startFrom > 0 ? startFrom : count + startFrom
        let end = startFrom > 0 ? count - 1 : 0
        let direction = start <= end ? 1 : -1
        var index = start
        // Each step moves towards `end` or out of bounds, so the loop ends within `count` steps.
        while index != end, index >= 1, index < count {
            if isWord(arguments[index], keyword) { return index }
            index += direction
        }
        return nil
    }

    /// The keys a command's own scan finds.
    static func scanKeys(_ scan: ArgumentScan, in arguments: [[UInt8]]) -> [KeyReference] {
        switch scan {
        case .countedKeys(let countIndex, let firstKeyIndex, let destinationIndex):
            guard countIndex < arguments.count else { return [] }
            let keyCount = Int(cIntegerPrefix(arguments[countIndex]))
            guard keyCount >= 1, keyCount <= arguments.count - firstKeyIndex else { return [] }
            var found = (0..<keyCount).map { KeyReference(position: firstKeyIndex + $0, flags: []) }
            if let destinationIndex { found.append(KeyReference(position: destinationIndex, flags: [])) }
            return found
        case .set:
            let reads = arguments.dropFirst(3).contains { isWord($0, "GET") }
            return [KeyReference(position: 1, flags: reads ? [.readWrite, .access, .update] : [.overwrite, .update])]
        case .bitField:
            let flags: KeyFlags = bitFieldOnlyReads(arguments) ? [.readOnly, .access] : [.readWrite, .access, .update]
            return [KeyReference(position: 1, flags: flags)]
        case .streams:
            return streamKeys(arguments)
        }
    }

    /// Whether BITFIELD's operations are only complete GETs and OVERFLOWs; anything else (SET, INCRBY, a
    /// syntax error) counts as a write, as in Redis.
    static func bitFieldOnlyReads(_ arguments: [[UInt8]]) -> Bool {
        var index = 2
        while index < arguments.count {
            let remaining = arguments.count - index - 1
            if isWord(arguments[index], "GET"), remaining >= 2 {
                index += 3
            } else if isWord(arguments[index], "OVERFLOW"), remaining >= 1 {
                index += 2
            } else {
                return false
            }
        }
        return true
    }

    /// XREAD and XREADGROUP's own scan: skip the options up to STREAMS, then half of what follows is keys.
    static func streamKeys(_ arguments: [[UInt8]]) -> [KeyReference] {
        var streamsIndex: Int?
        var index = 1
        scanning: while index < arguments.count {
            let argument = arguments[index]
            if isWord(argument, "BLOCK") || isWord(argument, "COUNT") {
                index += 2
            } else if isWord(argument, "GROUP") {
                index += 3
            } else if isWord(argument, "NOACK") {
                index += 1
            } else {
                if isWord(argument, "STREAMS") { streamsIndex = index }
                break scanning
            }
        }
        guard let streamsIndex else { return [] }
        let following = arguments.count - streamsIndex - 1
        guard following > 0, following % 2 == 0 else { return [] }
        return (0..<(following / 2)).map { KeyReference(position: streamsIndex + 1 + $0, flags: []) }
    }

    /// Whether `argument` reads as `word` to C's `strcasecmp`, which Redis uses for these keywords: ASCII case
    /// folded, and the argument ends at its first NUL byte.
    static func isWord(_ argument: [UInt8], _ word: String) -> Bool {
        let text = argument.prefix { $0 != 0 }
        let expected = Array(word.utf8)
        guard text.count == expected.count else { return false }
        return zip(text, expected).allSatisfy { foldedASCII($0) == foldedASCII($1) }
    }

    /// The number at the start of `bytes` as glibc's `atoi` reads it, which Redis's own scans use for a key
    /// count: leading white space and a sign are skipped, the digits end at the first other byte, the value is
    /// clamped to the 64-bit range (`strtol`) and then cut to a 32-bit int.
    static func cIntegerPrefix(_ bytes: [UInt8]) -> Int32 {
        let whiteSpace: [UInt8] = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var index = 0
        while index < bytes.count, whiteSpace.contains(bytes[index]) { index += 1 }
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        // The magnitude saturates at 2^63, the largest a 64-bit long can take (as a negative number).
        let saturation: UInt64 = 1 << 63
        var magnitude: UInt64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let digit = UInt64(bytes[index] - 0x30)
            magnitude = magnitude <= (saturation - digit) / 10 ? magnitude * 10 + digit : saturation
            index += 1
        }
        let value: Int64
        if negative {
            value = magnitude == saturation ? Int64.min : -Int64(magnitude)
        } else {
            value = magnitude >= saturation ? Int64.max : Int64(magnitude)
        }
        return Int32(truncatingIfNeeded: value)
    }

    /// The byte with an ASCII capital letter made small.
    static func foldedASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// A command name folded as Redis folds it (ASCII letters only).
    static func asciiLowercased(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map(foldedASCII), as: UTF8.self)
    }
}

/// Why `COMMAND GETKEYS` names no keys; each case's ``message`` is Redis 7.0's error line.
enum KeyLookupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command, or the container command's subcommand, is not supported: `ERR Invalid command specified`.
    case invalidCommand
    /// The command never takes keys (PING, PUBLISH, CLIENT LIST): `ERR The command has no key arguments`.
    case noKeyArguments
    /// The arguments do not fit the command's arity: `ERR Invalid number of arguments specified for command`.
    case wrongArgumentCount
    /// The arguments name no key although the command needs one (ZUNION 0 a, XREAD without STREAMS):
    /// `ERR Invalid arguments specified for command`.
    case invalidArguments

    /// The error reply's text.
    var message: String {
        switch self {
        case .invalidCommand: return "ERR Invalid command specified"
        case .noKeyArguments: return "ERR The command has no key arguments"
        case .wrongArgumentCount: return "ERR Invalid number of arguments specified for command"
        case .invalidArguments: return "ERR Invalid arguments specified for command"
        }
    }

    var description: String { message }
}
