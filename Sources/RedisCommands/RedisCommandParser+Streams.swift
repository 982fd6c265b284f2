import KV

/// An id XREAD reads after, as the client gave it: checked key by key when the command runs, as Redis checks
/// each key's type before it reads that key's id.
public enum StreamReadID: Hashable, Sendable {
    case id(StreamID)
    /// `$`: the stream's last id when the command arrived.
    case latest
    /// An id Redis refuses, with its error.
    case invalid(String)
}

/// What a group command answers for a missing key or group (``ReadCommand/streamGroupRefusal``).
public enum StreamGroupMissing: Hashable, Sendable {
    /// XACK: 0.
    case zero
    /// XPENDING, XCLAIM, XAUTOCLAIM: `NOGROUP No such key 'k' or consumer group 'g'`.
    case noGroup
    /// XREADGROUP: the same, `… in XREADGROUP with GROUP option`.
    case readGroup
    /// XGROUP SETID: the key must exist, then `NOGROUP No such consumer group 'g' for key name 'k'`.
    case xgroup
}

/// XREAD … BLOCK: a read tried at once and, while no stream has an entry after its id, again whenever the
/// node applies something, until the timeout. `$` ids are resolved when the command arrives.
public struct BlockingStreamRead: Hashable, Sendable {
    public var keys: [[UInt8]]
    /// The id after which each stream is read.
    public var after: [StreamReadID]
    /// 0: every entry.
    public var count: Int
    /// 0 waits for ever.
    public var timeoutMillis: UInt64
}

extension RedisCommandParser {
    static let invalidStreamID = "ERR Invalid stream ID specified as stream command argument"

    static let streamSpecs: [String: Spec] = [
        "xadd": Spec(arity: -5) { _, a, _ throws(RedisArgumentError) in try parseAdd(a) },
        "xtrim": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let (trim, next, _) = try parseTrim(a, from: a.startIndex + 1, adding: false)
            guard next == a.endIndex, let trim else { throw .syntax }
            return .write(.streams(.trim(key: a[a.startIndex], trim)), .direct)
        },
        "xdel": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            var ids: [StreamID] = []
            for argument in a.dropFirst() {
                do throws(RedisArgumentError) { ids.append(try strictID(argument, missingSequence: 0)) } catch {
                    // Redis looks the key up before it reads the ids: a missing key answers 0, another type
                    // WRONGTYPE.
                    return .read(.streamRefusal(a[a.startIndex], missing: .integer(0), refusal: error.message(command: "xdel")))
                }
            }
            return .write(.streams(.delete(key: a[a.startIndex], ids: ids)), .direct)
        },
        "xlen": Spec(arity: 2) { _, a, _ in .read(.streamLength(a[a.startIndex])) },
        "xsetid": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let id = try strictID(a[a.startIndex + 1], missingSequence: 0)
            var entriesAdded: UInt64?, maxDeletedID: StreamID?
            var index = a.startIndex + 2
            while index < a.endIndex {
                guard index + 1 < a.endIndex else { throw .syntax }
                switch keyword(a[index]) {
                case "ENTRIESADDED":
                    let value = try integer(a[index + 1])
                    guard value >= 0 else { throw .custom("ERR entries_added must be positive") }
                    entriesAdded = UInt64(value)
                case "MAXDELETEDID":
                    let deleted = try strictID(a[index + 1], missingSequence: 0)
                    guard deleted <= id else {
                        throw .custom("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                    }
                    maxDeletedID = deleted
                default:
                    throw .syntax
                }
                index += 2
            }
            return .write(.streams(.setID(key: a[a.startIndex], id: id, entriesAdded: entriesAdded,
                                          maxDeletedID: maxDeletedID)), .direct)
        },
        "xrange": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in try parseRange(a, reverse: false) },
        "xrevrange": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in try parseRange(a, reverse: true) },
        "xread": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in try parseRead(a) },
    ]

    /// `ms-seq`, or `ms` (the sequence `missingSequence`); decimal digits only.
    static func strictID(_ bytes: [UInt8], missingSequence: UInt64) throws(RedisArgumentError) -> StreamID {
        func number(_ digits: ArraySlice<UInt8>) -> UInt64? {
            guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return UInt64(String(decoding: digits, as: UTF8.self))
        }
        let parts = bytes.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false)
        guard let ms = number(parts[0]) else { throw .custom(invalidStreamID) }
        guard parts.count == 2 else { return StreamID(ms, missingSequence) }
        guard let seq = number(parts[1]) else { throw .custom(invalidStreamID) }
        return StreamID(ms, seq)
    }

    /// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value …
    private static func parseAdd(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let (trim, idIndex, makeStream) = try parseTrim(a, from: a.startIndex + 1, adding: true)
        guard idIndex < a.endIndex else { throw .wrongArity }
        let raw = a[idIndex]
        let id: StreamIDRequest
        if raw == [UInt8(ascii: "*")] {
            id = .auto
        } else if raw.count >= 2, raw.suffix(2) == [UInt8(ascii: "-"), UInt8(ascii: "*")] {
            id = .autoSequence(try strictID(Array(raw.dropLast(2)), missingSequence: 0).ms)
            guard !raw.dropLast(2).contains(UInt8(ascii: "-")) else { throw .custom(invalidStreamID) }
        } else {
            id = .explicit(try strictID(raw, missingSequence: 0))
        }
        let fields = Array(a[(idIndex + 1)...])
        guard fields.count >= 2, fields.count % 2 == 0 else { throw .wrongArity }
        if case .explicit(let explicit) = id, explicit == .zero {
            throw .custom("ERR The ID specified in XADD must be greater than 0-0")
        }
        return .write(.streams(.add(key: a[a.startIndex], id: id, fields: fields, makeStream: makeStream, trim: trim)),
                      .direct)
    }

    /// The trimming options (and NOMKSTREAM for XADD) from `start`, in Redis's order and with its errors;
    /// answers where the options end (XADD's id).
    private static func parseTrim(_ a: ArraySlice<[UInt8]>, from start: Int, adding: Bool) throws(RedisArgumentError)
        -> (StreamTrim?, next: Int, makeStream: Bool)
    {
        var threshold: StreamTrim.Threshold?
        var approximate = false
        var limit: UInt64?
        var makeStream = true
        var index = start
        while index < a.endIndex {
            let more = a.endIndex - index - 1
            let option = keyword(a[index])
            if adding, a[index] == [UInt8(ascii: "*")] { break }
            if (option == "MAXLEN" || option == "MINID") && more > 0 {
                if threshold != nil {
                    throw .custom("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                }
                approximate = false
                if more >= 2, a[index + 1] == [UInt8(ascii: "~")] {
                    approximate = true
                    index += 1
                } else if more >= 2, a[index + 1] == [UInt8(ascii: "=")] {
                    index += 1
                }
                if option == "MAXLEN" {
                    let length = try integer(a[index + 1])
                    guard length >= 0 else { throw .custom("ERR The MAXLEN argument must be >= 0.") }
                    threshold = .maxLength(UInt64(length))
                } else {
                    threshold = .minID(try strictID(a[index + 1], missingSequence: 0))
                }
                index += 2
            } else if option == "LIMIT" && more > 0 {
                let value = try integer(a[index + 1])
                guard value >= 0 else { throw .custom("ERR The LIMIT argument must be >= 0.") }
                limit = UInt64(value)
                index += 2
            } else if adding, option == "NOMKSTREAM" {
                makeStream = false
                index += 1
            } else if adding {
                break
            } else {
                throw .syntax
            }
        }
        if let limit, limit > 0, threshold == nil {
            throw .custom("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        }
        if !adding, threshold == nil { throw .custom("ERR syntax error, XTRIM must be called with a trimming strategy") }
        if limit != nil, !approximate { throw .custom("ERR syntax error, LIMIT cannot be used without the special ~ option") }
        guard let threshold else { return (nil, index, makeStream) }
        // Without LIMIT, `~` removes at most Redis's default (100 × stream-node-max-entries); `=` has no limit.
        let trim = StreamTrim(threshold, approximate: approximate, limit: approximate ? (limit ?? 10_000) : nil)
        return (trim, index, makeStream)
    }

    /// One end of an XRANGE interval: `-`, `+`, an id (a missing sequence is `missingSequence`), or `(id`
    /// (exclusive).
    static func intervalID(_ bytes: [UInt8], missingSequence: UInt64) throws(RedisArgumentError)
        -> (StreamID, exclusive: Bool)
    {
        if bytes.count > 1, bytes[0] == UInt8(ascii: "(") {
            return (try strictID(Array(bytes.dropFirst()), missingSequence: missingSequence), true)
        }
        if bytes == [UInt8(ascii: "-")] { return (.zero, false) }
        if bytes == [UInt8(ascii: "+")] { return (.max, false) }
        return (try strictID(bytes, missingSequence: missingSequence), false)
    }

    /// XRANGE key start end [COUNT n], XREVRANGE key end start [COUNT n].
    private static func parseRange(_ a: ArraySlice<[UInt8]>, reverse: Bool) throws(RedisArgumentError) -> RedisRequest {
        let startArgument = a[a.startIndex + (reverse ? 2 : 1)], endArgument = a[a.startIndex + (reverse ? 1 : 2)]
        var (start, startExclusive) = try intervalID(startArgument, missingSequence: 0)
        if startExclusive {
            guard let next = start.next else { throw .custom("ERR invalid start ID for the interval") }
            start = next
        }
        var (end, endExclusive) = try intervalID(endArgument, missingSequence: .max)
        if endExclusive {
            guard let previous = end.previous else { throw .custom("ERR invalid end ID for the interval") }
            end = previous
        }
        var count: Int64 = -1
        var index = a.startIndex + 3
        while index < a.endIndex {
            guard keyword(a[index]) == "COUNT", index + 1 < a.endIndex else { throw .syntax }
            count = max(try integer(a[index + 1]), 0)
            index += 2
        }
        return .read(.streamRange(a[a.startIndex], start: start, end: end, reverse: reverse, count: count))
    }

    /// XREAD's and XREADGROUP's BLOCK: whole milliseconds, 0 for ever.
    private static func blockMillis(_ bytes: [UInt8]) throws(RedisArgumentError) -> UInt64 {
        guard let millis = RedisNumber.parseInteger(bytes) else { throw .custom("ERR timeout is not an integer or out of range") }
        guard millis >= 0 else { throw .custom("ERR timeout is negative") }
        return UInt64(millis)
    }

    /// XREAD's and XREADGROUP's options, left to right with Redis's errors, up to STREAMS: what follows it
    /// (keys then ids, balanced). GROUP and NOACK belong to XREADGROUP (`grouped`).
    private static func readOptions(_ a: ArraySlice<[UInt8]>, grouped: Bool) throws(RedisArgumentError)
        -> (count: Int, timeout: UInt64?, noAck: Bool, group: ([UInt8], [UInt8])?, streams: ArraySlice<[UInt8]>)
    {
        var count = 0
        var timeout: UInt64?
        var noAck = false
        var group: ([UInt8], [UInt8])?
        var streamsAt: Int?
        var index = a.startIndex
        while index < a.endIndex {
            let more = a.endIndex - index - 1
            switch keyword(a[index]) {
            case "BLOCK" where more > 0:
                timeout = try blockMillis(a[index + 1])
                index += 2
            case "COUNT" where more > 0:
                count = Int(clamping: max(try integer(a[index + 1]), 0))
                index += 2
            case "STREAMS" where more > 0:
                streamsAt = index + 1
                index = a.endIndex
            case "GROUP" where more >= 2:
                guard grouped else {
                    throw .custom("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                }
                group = (a[index + 1], a[index + 2])
                index += 3
            case "NOACK":
                guard grouped else {
                    throw .custom("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                }
                noAck = true
                index += 1
            default:
                throw .syntax
            }
        }
        guard let streamsAt else { throw .syntax }
        let rest = a[streamsAt...]
        guard rest.count % 2 == 0 else {
            // Redis 7.0 words it so for XREADGROUP too.
            throw .custom("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
        }
        return (count, timeout, noAck, group, rest)
    }

    /// XREAD [COUNT n] [BLOCK ms] STREAMS key… id…
    private static func parseRead(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let (count, timeout, _, _, rest) = try readOptions(a, grouped: false)
        let keys = Array(rest.prefix(rest.count / 2))
        var after: [StreamReadID] = []
        for raw in rest.suffix(rest.count / 2) {
            if raw == [UInt8(ascii: "$")] {
                after.append(.latest)
            } else if raw == [UInt8(ascii: ">")] {
                after.append(.invalid("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                    + "<group> <consumer> option."))
            } else {
                do throws(RedisArgumentError) { after.append(.id(try strictID(raw, missingSequence: 0))) } catch {
                    after.append(.invalid(error.message(command: "xread")))
                }
            }
        }
        guard let timeout else { return .read(.streamRead(keys: keys, after: after, count: count)) }
        return .blockingRead(BlockingStreamRead(keys: keys, after: after, count: count, timeoutMillis: timeout))
    }
}

extension RedisCommandParser {
    static let streamGroupSpecs: [String: Spec] = [
        "xgroup": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseGroup(a) },
        "xreadgroup": Spec(arity: -7) { _, a, _ throws(RedisArgumentError) in try parseReadGroup(a) },
        "xack": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            var ids: [StreamID] = []
            for argument in a.dropFirst(2) {
                do throws(RedisArgumentError) { ids.append(try strictID(argument, missingSequence: 0)) } catch {
                    return .read(.streamGroupRefusal(keys: [a[a.startIndex]], group: a[a.startIndex + 1], missing: .zero,
                                                     refusal: error.message(command: "xack")))
                }
            }
            return .write(.streamGroups(.acknowledge(key: a[a.startIndex], group: a[a.startIndex + 1], ids: ids)), .direct)
        },
        "xinfo": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in try parseInfo(Array(a)) },
        "xpending": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in try parsePending(a) },
        "xclaim": Spec(arity: -6) { _, a, _ in
            do throws(RedisArgumentError) { return try parseClaim(a) } catch {
                return .read(.streamGroupRefusal(keys: [a[a.startIndex]], group: a[a.startIndex + 1], missing: .noGroup,
                                                 refusal: error.message(command: "xclaim")))
            }
        },
        "xautoclaim": Spec(arity: -6) { _, a, _ in
            do throws(RedisArgumentError) { return try parseAutoClaim(a) } catch {
                return .read(.streamGroupRefusal(keys: [a[a.startIndex]], group: a[a.startIndex + 1], missing: .noGroup,
                                                 refusal: error.message(command: "xautoclaim")))
            }
        },
    ]

    /// XCLAIM key group consumer min-idle-time id… [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
    private static func parseClaim(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard let minIdle = RedisNumber.parseInteger(a[a.startIndex + 3]) else {
            throw .custom("ERR Invalid min-idle-time argument for XCLAIM")
        }
        var index = a.startIndex + 4
        var ids: [StreamID] = []
        while index < a.endIndex, let id = try? strictID(a[index], missingSequence: 0) {
            ids.append(id)
            index += 1
        }
        var options = StreamClaimOptions()
        func number(_ what: String) throws(RedisArgumentError) -> Int64 {
            guard let value = RedisNumber.parseInteger(a[index + 1]) else {
                throw .custom("ERR Invalid \(what) option argument for XCLAIM")
            }
            return value
        }
        while index < a.endIndex {
            let more = a.endIndex - index - 1
            switch keyword(a[index]) {
            case "FORCE": options.force = true
            case "JUSTID": options.justID = true
            case "IDLE" where more > 0:
                options.delivery = .idle(try number("IDLE"))
                index += 1
            case "TIME" where more > 0:
                options.delivery = .time(try number("TIME"))
                index += 1
            case "RETRYCOUNT" where more > 0:
                options.retryCount = UInt64(clamping: max(try number("RETRYCOUNT"), 0))
                index += 1
            case "LASTID" where more > 0:
                options.lastID = try strictID(a[index + 1], missingSequence: 0)
                index += 1
            default:
                throw .custom("ERR Unrecognized XCLAIM option '\(String(decoding: a[index], as: UTF8.self))'")
            }
            index += 1
        }
        return .write(.streamGroups(.claim(key: a[a.startIndex], group: a[a.startIndex + 1], consumer: a[a.startIndex + 2],
                                           minIdle: UInt64(max(minIdle, 0)), ids: ids, options: options)), .direct)
    }

    /// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID].
    private static func parseAutoClaim(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        guard let minIdle = RedisNumber.parseInteger(a[a.startIndex + 3]) else {
            throw .custom("ERR Invalid min-idle-time argument for XAUTOCLAIM")
        }
        var (start, exclusive) = try intervalID(a[a.startIndex + 4], missingSequence: 0)
        if exclusive {
            guard let next = start.next else { throw .custom("ERR invalid start ID for the interval") }
            start = next
        }
        var count = 100
        var justID = false
        var index = a.startIndex + 5
        while index < a.endIndex {
            switch keyword(a[index]) {
            case "COUNT" where index + 1 < a.endIndex:
                let value = try integer(a[index + 1])
                guard value >= 1, value <= Int64.max / 10 else { throw .custom("ERR COUNT must be > 0") }
                count = Int(value)
                index += 2
            case "JUSTID":
                justID = true
                index += 1
            default:
                throw .syntax
            }
        }
        return .write(.streamGroups(.autoClaim(key: a[a.startIndex], group: a[a.startIndex + 1],
                                               consumer: a[a.startIndex + 2], minIdle: UInt64(max(minIdle, 0)),
                                               start: start, count: count, justID: justID)), .direct)
    }

    private static func subcommandError(_ subcommand: [UInt8], _ command: String) -> RedisArgumentError {
        .custom("ERR unknown subcommand or wrong number of arguments for '\(String(decoding: subcommand, as: UTF8.self))'. "
            + "Try \(command) HELP.")
    }

    /// XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER, with Redis's checks in its order: the
    /// subcommand's arity, its options, then (on the store) the key's type and existence, then the id.
    private static func parseGroup(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let subcommand = a[a.startIndex]
        let name = keyword(subcommand)
        let arities: [String: ClosedRange<Int>] = [
            "CREATE": 5...Int.max, "SETID": 5...Int.max, "DESTROY": 4...4, "CREATECONSUMER": 5...5, "DELCONSUMER": 5...5,
            "HELP": 2...2,
        ]
        let argc = a.count + 1
        guard let arity = arities[name] else {
            throw .custom("ERR unknown subcommand '\(String(decoding: subcommand, as: UTF8.self))'. Try XGROUP HELP.")
        }
        guard arity.contains(argc) else {
            throw .custom("ERR wrong number of arguments for 'xgroup|\(name.lowercased())' command")
        }
        guard name != "HELP" else { return .reply(.array(xgroupHelp.map { .simpleString($0) })) }
        let key = a[a.startIndex + 1], group = a[a.startIndex + 2]
        switch name {
        case "CREATE", "SETID":
            guard name == "CREATE" ? argc <= 8 : (argc == 5 || argc == 7) else { throw subcommandError(subcommand, "XGROUP") }
            var makeStream = false
            var entriesRead: UInt64?
            var index = a.startIndex + 4
            while index < a.endIndex {
                if name == "CREATE", keyword(a[index]) == "MKSTREAM" {
                    makeStream = true
                    index += 1
                } else if keyword(a[index]) == "ENTRIESREAD", index + 1 < a.endIndex {
                    let value = try integer(a[index + 1])
                    guard value >= 0 || value == -1 else { throw .custom("ERR value for ENTRIESREAD must be positive or -1") }
                    entriesRead = value < 0 ? nil : UInt64(value)
                    index += 2
                } else {
                    throw subcommandError(subcommand, "XGROUP")
                }
            }
            let raw = a[a.startIndex + 3]
            let from: StreamGroupStart
            do throws(RedisArgumentError) {
                if raw == [UInt8(ascii: "$")] {
                    from = .latest
                } else if name == "SETID", raw == [UInt8(ascii: "-")] {
                    from = .id(.zero)
                } else if name == "SETID", raw == [UInt8(ascii: "+")] {
                    from = .id(.max)
                } else {
                    from = .id(try strictID(raw, missingSequence: 0))
                }
            } catch {
                // The id is read once the key is found: a missing key (without MKSTREAM) or another type first,
                // and for SETID a missing group.
                let message = error.message(command: "xgroup")
                if name == "SETID" {
                    return .read(.streamGroupRefusal(keys: [key], group: group, missing: .xgroup, refusal: message))
                }
                return .read(.streamRefusal(key, missing: makeStream ? .error(message) : .error(StreamGroupErrors.missingKey),
                                            refusal: message))
            }
            if name == "CREATE" {
                return .write(.streamGroups(.create(key: key, group: group, start: from, makeStream: makeStream,
                                                    entriesRead: entriesRead)), .direct)
            }
            return .write(.streamGroups(.setID(key: key, group: group, start: from, entriesRead: entriesRead)), .direct)
        case "DESTROY":
            return .write(.streamGroups(.destroy(key: key, group: group)), .direct)
        case "CREATECONSUMER":
            return .write(.streamGroups(.createConsumer(key: key, group: group, consumer: a[a.startIndex + 3])), .direct)
        default:
            return .write(.streamGroups(.deleteConsumer(key: key, group: group, consumer: a[a.startIndex + 3])), .direct)
        }
    }

    static let xgroupHelp = [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Print this help.",
    ]

    /// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key… id…
    private static func parseReadGroup(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let (count, timeout, noAck, group, rest) = try readOptions(a, grouped: true)
        guard let (groupName, consumer) = group else { throw .custom("ERR Missing GROUP option for XREADGROUP") }
        let keys = Array(rest.prefix(rest.count / 2))
        var ids: [StreamGroupReadID] = []
        for (position, raw) in rest.suffix(rest.count / 2).enumerated() {
            if raw == [UInt8(ascii: ">")] {
                ids.append(.new)
                continue
            }
            var refusal: String
            if raw == [UInt8(ascii: "$")] {
                refusal = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
                    + "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                    + "just return an empty result set."
            } else {
                do throws(RedisArgumentError) {
                    let id = try strictID(raw, missingSequence: 0)
                    // Redis 7.0 reads the largest id as `>`.
                    ids.append(id == .max ? .new : .history(id))
                    continue
                } catch {
                    refusal = error.message(command: "xreadgroup")
                }
            }
            // Redis checks each key (type, group) before its id: the keys up to this one first.
            return .read(.streamGroupRefusal(keys: Array(keys.prefix(position + 1)), group: groupName, missing: .readGroup,
                                             refusal: refusal))
        }
        let command = Command.streamGroups(.read(group: groupName, consumer: consumer, keys: keys, ids: ids, count: count,
                                                 noAck: noAck))
        // Only new entries can be waited for; a history read answers at once.
        guard let timeout, ids.contains(.new) else { return .write(command, .direct) }
        return .blocking(BlockingCommand(attempt: command, keys: keys, timeoutMillis: timeout, reply: .direct))
    }

    /// XPENDING key group [[IDLE min-idle] start end count [consumer]].
    private static func parsePending(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> RedisRequest {
        let key = a[a.startIndex], group = a[a.startIndex + 1]
        guard a.count == 2 || (5...8).contains(a.count) else { throw .syntax }
        guard a.count > 2 else { return .read(.streamPending(key, group: group, range: nil)) }
        var start = a.startIndex + 2
        var minimumIdle: Int64 = 0
        if keyword(a[start]) == "IDLE" {
            minimumIdle = try integer(a[start + 1])
            guard a.count >= 7 else { throw .syntax }
            start += 2
        }
        let count = max(try integer(a[start + 2]), 0)
        var (low, lowExclusive) = try intervalID(a[start], missingSequence: 0)
        if lowExclusive {
            guard let next = low.next else { throw .custom("ERR invalid start ID for the interval") }
            low = next
        }
        var (high, highExclusive) = try intervalID(a[start + 1], missingSequence: .max)
        if highExclusive {
            guard let previous = high.previous else { throw .custom("ERR invalid end ID for the interval") }
            high = previous
        }
        // Words after the consumer are ignored, as Redis ignores them.
        let consumer = start + 3 < a.endIndex ? a[start + 3] : nil
        return .read(.streamPending(key, group: group, range: StreamPendingRange(
            low: low, high: high, count: count, minimumIdle: minimumIdle, consumer: consumer)))
    }
}

/// XPENDING's extended form.
public struct StreamPendingRange: Hashable, Sendable {
    public var low: StreamID
    public var high: StreamID
    public var count: Int64
    public var minimumIdle: Int64
    public var consumer: [UInt8]?
}

extension RedisCommandParser {
    static func parseInfo(_ a: [[UInt8]]) throws(RedisArgumentError) -> RedisRequest {
        let subcommand = String(decoding: a[0], as: UTF8.self)
        let words = a.dropFirst().map { String(decoding: $0, as: UTF8.self).lowercased() }
        func arity() -> RedisRequest {
            .reply(.error("ERR wrong number of arguments for 'xinfo|\(subcommand.lowercased())' command"))
        }
        switch subcommand.lowercased() {
        case "stream":
            guard a.count >= 2 else { return arity() }
            let key = a[1]
            if a.count == 2 { return .read(.streamInfo(key, .stream(full: nil))) }
            let unknown = RedisRequest.reply(.error("ERR unknown subcommand or wrong number of arguments for '\(subcommand)'. Try XINFO HELP."))
            guard words[1] == "full" else { return unknown }
            if a.count == 3 { return .read(.streamInfo(key, .stream(full: 10))) }
            guard a.count == 5, words[2] == "count" else { return unknown }
            let count = try integer(a[4])
            return .read(.streamInfo(key, .stream(full: count <= 0 ? 0 : Int(clamping: count))))
        case "groups":
            guard a.count == 2 else { return arity() }
            return .read(.streamInfo(a[1], .groups))
        case "consumers":
            guard a.count == 3 else { return arity() }
            return .read(.streamInfo(a[1], .consumers(group: a[2])))
        case "help":
            return .reply(.array([
                "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.", "GROUPS <key>", "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream.", "HELP",
                "    Prints this help.",
            ].map { .simpleString($0) }))
        default:
            return .reply(.error("ERR unknown subcommand '\(subcommand)'. Try XINFO HELP."))
        }
    }
}
