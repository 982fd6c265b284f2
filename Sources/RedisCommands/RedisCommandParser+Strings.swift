import KV

extension RedisCommandParser {
    /// GETRANGE and its old name SUBSTR.
    static let getRange = Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
        .read(.getRange(a[a.startIndex], start: try integer(a[a.startIndex + 1]), end: try integer(a[a.startIndex + 2])))
    }

    /// A SETBIT / GETBIT offset: 0 ..< 2^32.
    static func bitOffset(_ bytes: [UInt8]) throws(RedisArgumentError) -> UInt64 {
        guard let offset = RedisNumber.parseInteger(bytes), offset >= 0, UInt64(offset) < Command.maxBitOffset else {
            throw .custom("ERR bit offset is not an integer or out of range")
        }
        return UInt64(offset)
    }

    /// `BYTE` (false) or `BIT` (true) after a BITCOUNT / BITPOS range.
    static func bitUnit(_ bytes: [UInt8]) throws(RedisArgumentError) -> Bool {
        switch keyword(bytes) {
        case "BYTE": return false
        case "BIT": return true
        default: throw .syntax
        }
    }

    static let stringSpecs: [String: Spec] = [
        "get": Spec(arity: 2) { _, a, _ in .read(.get(a[a.startIndex])) },
        "set": Spec(arity: -3) { _, a, now throws(RedisArgumentError) in try parseSet(a, now: now) },
        "setnx": Spec(arity: 3) { _, a, _ in
            .write(.set(key: a[a.startIndex], value: a[a.startIndex + 1], condition: .ifAbsent, expiry: .none,
                        returnOld: false), .setFlag)
        },
        "setex": Spec(arity: 4) { _, a, now throws(RedisArgumentError) in
            try setWithTTL(a, unitMillis: 1000, now: now)
        },
        "psetex": Spec(arity: 4) { _, a, now throws(RedisArgumentError) in
            try setWithTTL(a, unitMillis: 1, now: now)
        },
        "getset": Spec(arity: 3) { _, a, _ in
            .write(.set(key: a[a.startIndex], value: a[a.startIndex + 1], condition: .always, expiry: .none,
                        returnOld: true), .direct)
        },
        "getdel": Spec(arity: 2) { _, a, _ in .write(.getDelete(key: a[a.startIndex]), .direct) },
        "getex": Spec(arity: -2) { _, a, now throws(RedisArgumentError) in try parseGetEx(a, now: now) },
        "mget": Spec(arity: -2) { _, a, _ in .read(.multiGet(Array(a))) },
        "mset": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            .write(.multiSet(pairs: try pairs(a), onlyIfNoneExist: false), .direct)
        },
        "msetnx": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            .write(.multiSet(pairs: try pairs(a), onlyIfNoneExist: true), .direct)
        },
        "incr": Spec(arity: 2) { _, a, _ in .write(.incrementBy(key: a[a.startIndex], delta: 1), .direct) },
        "decr": Spec(arity: 2) { _, a, _ in .write(.incrementBy(key: a[a.startIndex], delta: -1), .direct) },
        "incrby": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            .write(.incrementBy(key: a[a.startIndex], delta: try integer(a[a.startIndex + 1])), .direct)
        },
        "decrby": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            let amount = try integer(a[a.startIndex + 1])
            guard amount != .min else { throw .custom("ERR decrement would overflow") }
            return .write(.incrementBy(key: a[a.startIndex], delta: -amount), .direct)
        },
        "incrbyfloat": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            // An increment that does not parse travels as NaN: apply reports a wrong type first, as Redis does.
            .write(.incrementByFloat(key: a[a.startIndex], delta: RedisNumber.parseFloat(a[a.startIndex + 1]) ?? .nan),
                   .direct)
        },
        "append": Spec(arity: 3) { _, a, _ in
            .write(.append(key: a[a.startIndex], value: a[a.startIndex + 1]), .direct)
        },
        "strlen": Spec(arity: 2) { _, a, _ in .read(.stringLength(a[a.startIndex])) },
        "getrange": getRange,
        "setbit": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let offset = try bitOffset(a[a.startIndex + 1])
            let value = a[a.startIndex + 2]
            guard value == Array("0".utf8) || value == Array("1".utf8) else {
                throw .custom("ERR bit is not an integer or out of range")
            }
            return .write(.setBit(key: a[a.startIndex], offset: offset, bit: value == Array("1".utf8)), .direct)
        },
        "getbit": Spec(arity: 3) { _, a, _ throws(RedisArgumentError) in
            .read(.getBit(a[a.startIndex], offset: try bitOffset(a[a.startIndex + 1])))
        },
        "bitcount": Spec(arity: -2) { _, a, _ in
            let key = a[a.startIndex]
            guard a.count > 1 else { return .read(.bitCount(key, range: nil)) }
            do throws(RedisArgumentError) {
                guard a.count == 3 || a.count == 4 else { throw .syntax }
                let start = try integer(a[a.startIndex + 1])
                let end = try integer(a[a.startIndex + 2])
                let inBits = a.count == 4 ? try bitUnit(a[a.startIndex + 3]) : false
                return .read(.bitCount(key, range: .init(start: start, end: end, inBits: inBits)))
            } catch {
                return .read(.bitCount(key, range: nil, refusal: error.message(command: "bitcount")))
            }
        },
        "bitpos": Spec(arity: -3) { _, a, _ throws(RedisArgumentError) in
            let bitArgument = a[a.startIndex + 1]
            guard let bit = RedisNumber.parseInteger(bitArgument) else { throw .notAnInteger }
            guard bit == 0 || bit == 1 else { throw .custom("ERR The bit argument must be 1 or 0.") }
            do throws(RedisArgumentError) {
                guard a.count <= 5 else { throw .syntax }
                let start = a.count > 2 ? try integer(a[a.startIndex + 2]) : nil
                let end = a.count > 3 ? try integer(a[a.startIndex + 3]) : nil
                let inBits = a.count == 5 ? try bitUnit(a[a.startIndex + 4]) : false
                return .read(.bitPosition(a[a.startIndex], bit: bit == 1, start: start, end: end, inBits: inBits))
            } catch {
                return .read(.bitPosition(a[a.startIndex], bit: bit == 1, start: nil, end: nil, inBits: false,
                                          refusal: error.message(command: "bitpos")))
            }
        },
        "bitop": Spec(arity: -4) { _, a, _ throws(RedisArgumentError) in
            let operations: [String: Command.BitOperation] = ["AND": .and, "OR": .or, "XOR": .xor, "NOT": .not]
            guard let operation = operations[keyword(a[a.startIndex])] else { throw .syntax }
            let sources = Array(a.dropFirst(2))
            guard operation != .not || sources.count == 1 else {
                throw .custom("ERR BITOP NOT must be called with a single source key.")
            }
            return .write(.bitOperation(operation, destination: a[a.startIndex + 1], sources: sources), .direct)
        },
        "substr": getRange,
        "pfadd": Spec(arity: -2) { _, a, _ in
            .write(.hyperLogLogAdd(key: a[a.startIndex], elements: Array(a.dropFirst())), .direct)
        },
        "pfcount": Spec(arity: -2) { _, a, _ in .read(.hyperLogLogCount(Array(a))) },
        "pfmerge": Spec(arity: -2) { _, a, _ in
            .write(.hyperLogLogMerge(destination: a[a.startIndex], sources: Array(a.dropFirst())), .direct)
        },
        "lcs": Spec(arity: -3) { _, a, _ in
            do throws(RedisArgumentError) {
                return .read(.longestCommonSubsequence(a[a.startIndex], a[a.startIndex + 1], try lcsReply(a.dropFirst(2))))
            } catch {
                return .read(.longestCommonSubsequence(a[a.startIndex], a[a.startIndex + 1], .string,
                                                       refusal: error.message(command: "lcs")))
            }
        },

        "setrange": Spec(arity: 4) { _, a, _ throws(RedisArgumentError) in
            let offset = try integer(a[a.startIndex + 1])
            guard offset >= 0 else { throw .offsetOutOfRange }
            return .write(.setRange(key: a[a.startIndex], offset: UInt64(offset), value: a[a.startIndex + 2]),
                          .direct)
        },
    ]

    static func pairs(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> [Command.KeyValue] {
        guard a.count % 2 == 0 else { throw .wrongArity }
        return stride(from: a.startIndex, to: a.endIndex, by: 2).map { Command.KeyValue(a[$0], a[$0 + 1]) }
    }

    static func setWithTTL(_ a: ArraySlice<[UInt8]>, unitMillis: Int64, now: UInt64) throws(RedisArgumentError)
        -> RedisRequest
    {
        let at = try deadline(try integer(a[a.startIndex + 1]), unitMillis: unitMillis, now: now)
        return .write(.set(key: a[a.startIndex], value: a[a.startIndex + 2], condition: .always, expiry: .at(at),
                           returnOld: false), .direct)
    }

    /// The options of SET (`NX | XX`, `GET`, one expiry) and GETEX (one expiry or `PERSIST`), as Redis 7
    /// reads them: an option may repeat (the last amount wins) but never conflict with another, and the
    /// amount is checked only once every option is known.
    struct ExpiryOptions {
        var condition = Command.SetCondition.always
        var returnOld = false
        var unit: String?
        var amount: [UInt8]?
        var keepTTL = false
        var persist = false

        init(_ options: ArraySlice<[UInt8]>, forSet: Bool) throws(RedisArgumentError) {
            var index = options.startIndex
            while index < options.endIndex {
                let option = keyword(options[index])
                // (A `where` clause guards only the last pattern of a case, so each case has one pattern.)
                let isAmount = ["EX", "PX", "EXAT", "PXAT"].contains(option)
                switch option {
                case "NX" where forSet && condition != .ifPresent: condition = .ifAbsent
                case "XX" where forSet && condition != .ifAbsent: condition = .ifPresent
                case "GET" where forSet: returnOld = true
                case "KEEPTTL" where forSet && unit == nil: keepTTL = true
                case "PERSIST" where !forSet && unit == nil: persist = true
                case _ where isAmount && !keepTTL && !persist && (unit == nil || unit == option)
                    && index + 1 < options.endIndex:
                    unit = option
                    index += 1
                    amount = options[index]
                default:
                    throw .syntax
                }
                index += 1
            }
        }

        /// The expiry the options ask for; nil when none was given.
        func expiry(now: UInt64) throws(RedisArgumentError) -> Command.Expiry? {
            if keepTTL { return .keep }
            if persist { return Command.Expiry.none }
            guard let unit, let amount else { return nil }
            let value = try integer(amount)
            let millis: Int64 = unit.hasPrefix("E") ? 1000 : 1
            return .at(unit.hasSuffix("AT")
                ? try absolute(value, unitMillis: millis) : try deadline(value, unitMillis: millis, now: now))
        }
    }

    /// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]`.
    static func parseSet(_ a: ArraySlice<[UInt8]>, now: UInt64) throws(RedisArgumentError) -> RedisRequest {
        let options = try ExpiryOptions(a.dropFirst(2), forSet: true)
        return .write(.set(key: a[a.startIndex], value: a[a.startIndex + 1], condition: options.condition,
                           expiry: try options.expiry(now: now) ?? .none, returnOld: options.returnOld), .direct)
    }

    /// `GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]`.
    static func parseGetEx(_ a: ArraySlice<[UInt8]>, now: UInt64) throws(RedisArgumentError) -> RedisRequest {
        let options = try ExpiryOptions(a.dropFirst(), forSet: false)
        return .write(.getExpire(key: a[a.startIndex], expiry: try options.expiry(now: now) ?? .keep), .direct)
    }
}

extension RedisCommandParser {
    /// LCS's options: IDX, LEN, WITHMATCHLEN, MINMATCHLEN n (a negative minimum counts as 0).
    static func lcsReply(_ a: ArraySlice<[UInt8]>) throws(RedisArgumentError) -> LongestCommonSubsequence.Reply {
        var length = false, ranges = false, withLengths = false
        var minimum: Int64 = 0
        var index = a.startIndex
        while index < a.endIndex {
            switch keyword(a[index]) {
            case "IDX": ranges = true
            case "LEN": length = true
            case "WITHMATCHLEN": withLengths = true
            case "MINMATCHLEN" where index + 1 < a.endIndex:
                minimum = max(try integer(a[index + 1]), 0)
                index += 1
            default: throw .syntax
            }
            index += 1
        }
        guard !(ranges && length) else {
            throw .custom("ERR If you want both the length and indexes, please just use IDX.")
        }
        if ranges { return .ranges(minimumMatch: minimum, withLengths: withLengths) }
        return length ? .length : .string
    }
}

extension RedisCommandParser {
    static let bitFieldSpecs: [String: Spec] = [
        "bitfield": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            let operations = try bitFieldOperations(a.dropFirst(), readOnly: false)
            guard operations.contains(where: \.writes) else { return .read(.bitField(a[a.startIndex], operations)) }
            return .write(.bitField(key: a[a.startIndex], operations: operations), .direct)
        },
        "bitfield_ro": Spec(arity: -2) { _, a, _ throws(RedisArgumentError) in
            .read(.bitField(a[a.startIndex], try bitFieldOperations(a.dropFirst(), readOnly: true)))
        },
    ]

    /// `GET type offset | SET type offset value | INCRBY type offset increment | OVERFLOW WRAP|SAT|FAIL`…
    static func bitFieldOperations(_ a: ArraySlice<[UInt8]>, readOnly: Bool) throws(RedisArgumentError)
        -> [BitField.Operation]
    {
        var operations: [BitField.Operation] = []
        var overflow = BitField.Overflow.wrap
        var writes = false
        var index = a.startIndex
        while index < a.endIndex {
            let name = keyword(a[index])
            let remaining = a.endIndex - index - 1
            switch name {
            case "GET" where remaining >= 2, "SET" where remaining >= 3, "INCRBY" where remaining >= 3:
                let field = try bitFieldType(a[index + 1])
                let offset = try bitFieldOffset(a[index + 2], field)
                if name == "GET" {
                    operations.append(.get(field, offset: offset))
                    index += 3
                    continue
                }
                writes = true
                let value = try integer(a[index + 3])
                operations.append(name == "SET" ? .set(field, offset: offset, value: value, overflow: overflow)
                                                : .incrementBy(field, offset: offset, delta: value, overflow: overflow))
                index += 4
            case "OVERFLOW" where remaining >= 1:
                switch keyword(a[index + 1]) {
                case "WRAP": overflow = .wrap
                case "SAT": overflow = .saturate
                case "FAIL": overflow = .fail
                default: throw .custom("ERR Invalid OVERFLOW type specified")
                }
                index += 2
            default:
                throw .syntax
            }
        }
        // Redis parses everything first; BITFIELD_RO refuses writes after that.
        if readOnly && writes { throw .custom("ERR BITFIELD_RO only supports the GET subcommand") }
        return operations
    }

    static func bitFieldType(_ bytes: [UInt8]) throws(RedisArgumentError) -> BitField.Field {
        let invalid = RedisArgumentError.custom(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
        guard let sign = bytes.first, sign == UInt8(ascii: "i") || sign == UInt8(ascii: "u"),
              let bits = RedisNumber.parseInteger(Array(bytes.dropFirst())) else { throw invalid }
        let signed = sign == UInt8(ascii: "i")
        guard bits >= 1, bits <= (signed ? 64 : 63) else { throw invalid }
        return BitField.Field(signed: signed, bits: UInt8(bits))
    }

    /// A field's offset: bits, or `#n` for the n-th field of this width.
    static func bitFieldOffset(_ bytes: [UInt8], _ field: BitField.Field) throws(RedisArgumentError) -> UInt64 {
        let invalid = RedisArgumentError.custom("ERR bit offset is not an integer or out of range")
        let multiplied = bytes.first == UInt8(ascii: "#")
        guard let number = RedisNumber.parseInteger(multiplied ? Array(bytes.dropFirst()) : bytes) else { throw invalid }
        let (offset, overflow) = number.multipliedReportingOverflow(by: multiplied ? Int64(field.bits) : 1)
        guard !overflow, offset >= 0, UInt64(offset) < Command.maxBitOffset else { throw invalid }
        return UInt64(offset)
    }
}
