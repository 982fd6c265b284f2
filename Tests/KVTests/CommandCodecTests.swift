import KV
import Testing

@Suite struct CommandCodecTests {
    static let samples: [Command] = [
        .set(key: [1], value: [2, 3], condition: .ifAbsent, expiry: .at(99), returnOld: true),
        .set(key: [], value: [], condition: .ifPresent, expiry: .keep, returnOld: false),
        .multiSet(pairs: [.init([1], [2]), .init([3], [])], onlyIfNoneExist: true),
        .delete(keys: [[1], [2, 2]]),
        .incrementBy(key: [1], delta: Int64.min),
        .incrementByFloat(key: [1], delta: -0.125),
        .append(key: [1], value: [9]),
        .setRange(key: [1], offset: 77, value: [1, 2]),
        .expireAt(key: [1], atMillis: 123),
        .persist(key: [4]),
        .getDelete(key: [4]),
        .getExpire(key: [4], expiry: .none),
        .hashSet(key: [5], fields: [.init([1], [1])]),
        .hashDelete(key: [5], fields: [[1], [2]]),
        .hashIncrementBy(key: [5], field: [1], delta: -9),
        .registerMember(id: 42, name: Array("n2".utf8), address: Array("127.0.0.1:50052".utf8)),
        .expireAtIf(key: [1], atMillis: 321, condition: [.hasExpiry, .later]),
        .rename(from: [1], to: [2], onlyIfAbsent: true),
        .copy(from: [1], to: [3], replace: false),
        .hashIncrementByFloat(key: [5], field: [2], delta: 2.5),
        .hashSetIfAbsent(key: [5], field: [3], value: [7, 7]),
        .setBit(key: [6], offset: 7, bit: true),
        .bitOperation(.xor, destination: [7], sources: [[1], [2]]),
        .bitOperation(.not, destination: [7], sources: [[1]]),
        .flushAll,
        .list(.push(key: [8], elements: [[1], []], left: true, onlyIfExists: false)),
        .list(.push(key: [8], elements: [[2]], left: false, onlyIfExists: true)),
        .list(.pop(key: [8], left: false, count: nil)),
        .list(.pop(key: [8], left: true, count: 0)),
        .list(.set(key: [8], index: -1, element: [3])),
        .list(.insert(key: [8], before: true, pivot: [1], element: [4])),
        .list(.remove(key: [8], count: Int64.min, element: [1])),
        .list(.trim(key: [8], start: -3, stop: Int64.max)),
        .list(.move(source: [8], destination: [9], fromLeft: false, toLeft: true)),
        .list(.multiPop(keys: [[8], [9]], left: true, count: 2)),
        .sets(.add(key: [10], members: [[1], []])),
        .sets(.remove(key: [10], members: [[1]])),
        .sets(.pop(key: [10], count: nil)),
        .sets(.pop(key: [10], count: 7)),
        .sets(.move(source: [10], destination: [11], member: [2])),
        .sets(.store(.difference, destination: [12], keys: [[10], [11]])),
        .sweepExpired(from: [], limit: 1),
        .sweepExpired(from: [1, 2], limit: Command.maxSweepKeys),
        .database(15, .set(key: [1], value: [2], condition: .always, expiry: .none, returnOld: false)),
        .database(3, .list(.push(key: [8], elements: [[1]], left: true, onlyIfExists: false))),
        .flushDatabase,
        .swapDatabases(0, 15),
        .hyperLogLogAdd(key: [1], elements: []),
        .hyperLogLogAdd(key: [1], elements: [[1], [2, 3]]),
        .hyperLogLogMerge(destination: [1], sources: [[2]]),
        .bitField(key: [1], operations: [.get(.init(signed: true, bits: 64), offset: 0),
                                         .set(.init(signed: false, bits: 63), offset: 9, value: -1, overflow: .saturate),
                                         .incrementBy(.init(signed: true, bits: 1), offset: 7, delta: 3, overflow: .fail)]),
        .move(key: [1], database: 4),
        .copyToDatabase(from: [1], to: [2], database: 0, replace: true),
        .sortedSets(.add(key: [13], entries: [ScoredMember(score: -.infinity, member: []), ScoredMember(score: 2.5, member: [1])],
                         options: [.onlyExisting, .greater, .changed])),
        .sortedSets(.add(key: [13], entries: [ScoredMember(score: 1, member: [2])], options: .increment)),
        .sortedSets(.remove(key: [13], members: [[1], []])),
        .sortedSets(.removeRange(key: [13], .rank(start: Int64.min, stop: -1))),
        .sortedSets(.removeRange(key: [13], .score(min: ScoreBound(-1, exclusive: true), max: ScoreBound(.infinity)))),
        .sortedSets(.removeRange(key: [13], .lex(min: .minimum, max: .exclusive([7])))),
        .sortedSets(.pop(keys: [[13], [14]], highest: true, count: 3, form: .multi)),
        .sortedSets(.pop(keys: [[13]], highest: false, count: nil, form: .keyed)),
        .sortedSets(.rangeStore(destination: [15], source: [13],
                                SortedSetQuery(.lex(min: .inclusive([1]), max: .maximum), reverse: true,
                                               limit: (offset: 2, count: -1)))),
        .sortedSets(.rangeStore(destination: [15], source: [13], SortedSetQuery(.rank(start: 0, stop: 5)))),
        .sortedSets(.store(.intersection, destination: [16], keys: [[13], [14]], weights: [2, -0.5], aggregate: .max)),
        .sortedSets(.store(.difference, destination: [16], keys: [[13]], weights: nil, aggregate: .sum)),
        .streams(.add(key: [17], id: .auto, fields: [[1], [2]], makeStream: true, trim: nil)),
        .streams(.add(key: [17], id: .autoSequence(5), fields: [[1], []], makeStream: false,
                      trim: StreamTrim(.maxLength(3), approximate: true, limit: 7))),
        .streams(.add(key: [17], id: .explicit(StreamID(9, 1)), fields: [[], [3], [4], [5]], makeStream: true,
                      trim: StreamTrim(.minID(StreamID(2, 0))))),
        .streams(.delete(key: [17], ids: [StreamID(1, 1), StreamID(.max, .max)])),
        .streams(.trim(key: [17], StreamTrim(.maxLength(0)))),
        .streams(.setID(key: [17], id: StreamID(5, 5), entriesAdded: 9, maxDeletedID: StreamID(1, 1))),
        .streams(.setID(key: [17], id: StreamID(5, 5), entriesAdded: nil, maxDeletedID: nil)),
        .streamGroups(.create(key: [17], group: [1], start: .latest, makeStream: true, entriesRead: nil)),
        .streamGroups(.create(key: [17], group: [1], start: .id(StreamID(3, 4)), makeStream: false, entriesRead: 9)),
        .streamGroups(.destroy(key: [17], group: [2])),
        .streamGroups(.createConsumer(key: [17], group: [1], consumer: [5])),
        .streamGroups(.deleteConsumer(key: [17], group: [1], consumer: [])),
        .streamGroups(.setID(key: [17], group: [1], start: .latest, entriesRead: 0)),
        .streamGroups(.read(group: [1], consumer: [5], keys: [[17], [18]], ids: [.new, .history(StreamID(1, 0))], count: 10,
                            noAck: true)),
        .streamGroups(.acknowledge(key: [17], group: [1], ids: [StreamID(1, 0)])),
        .streamGroups(.claim(key: [17], group: [1], consumer: [2], minIdle: 5, ids: [StreamID(1, 0)], options: {
            var options = StreamClaimOptions()
            options.delivery = .idle(-3)
            options.retryCount = 4
            options.force = true
            options.lastID = StreamID(9, 9)
            return options
        }())),
        .streamGroups(.claim(key: [17], group: [1], consumer: [2], minIdle: 0, ids: [], options: StreamClaimOptions())),
        .streamGroups(.autoClaim(key: [17], group: [1], consumer: [2], minIdle: 0, start: .zero, count: 100, justID: true)),
    ]

    @Test func sortedSetCommandsRedisRefusesAreRejected() {
        let valid = CommandEntry(proposedTS: 1, nowMillis: 2, commands: [
            .sortedSets(.add(key: [8], entries: [ScoredMember(score: 1, member: [1])], options: [])),
        ]).encoded()
        // The prefix up to the ZADD options byte: entry header, tag, sub-tag, key blob.
        let prefix = Array(valid.prefix(18 + 1 + 1 + 5))
        #expect(throws: Never.self) { try CommandEntry(decoding: valid) }
        let entry: [UInt8] = [0, 0, 0, 1] + Array(1.0.bitPattern.bigEndianBytesForTest) + [0, 0, 0, 1, 1]
        let nan: [UInt8] = [0, 0, 0, 1] + Array(Double.nan.bitPattern.bigEndianBytesForTest) + [0, 0, 0, 1, 1]
        let twice: [UInt8] = [0, 0, 0, 2] + Array(entry.dropFirst(4)) + Array(entry.dropFirst(4))
        for body: [[UInt8]] in [[[0b11], entry], [[0b1100], entry], [[0b101], entry], [[0x40], entry], [[0], nan],
                                [[0b10_0000], twice], [[0], [0, 0, 0, 0]]] {
            #expect(throws: KVError.self, "\(body)") { try CommandEntry(decoding: prefix + body.flatMap { $0 }) }
        }
        #expect(throws: Never.self) { try CommandEntry(decoding: prefix + [0] + entry) }
    }

    @Test func listCommandsWithOutOfRangeCountsAreRejected() {
        // Tag 24 (list), then a sub-tag: pop with a negative count, pop with a count but no count flag,
        // multi-pop with count 0, and an unknown sub-tag.
        let key: [UInt8] = [0, 0, 0, 1, 8]
        let bodies: [[UInt8]] = [
            [2] + key + [1, 1] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            [2] + key + [1, 0] + [0, 0, 0, 0, 0, 0, 0, 3],
            [8, 0, 0, 0, 1] + key + [1] + [0, 0, 0, 0, 0, 0, 0, 0],
            [9] + key,
        ]
        let valid = CommandEntry(proposedTS: 1, nowMillis: 2, commands: [.list(.pop(key: [8], left: true, count: 3))])
        #expect(throws: Never.self) { try CommandEntry(decoding: valid.encoded()) }
        let prefix = Array(valid.encoded().prefix(18)) + [24]
        #expect(Array(valid.encoded().prefix(19)) == prefix)
        for body in bodies {
            #expect(throws: KVError.self, "\(body)") { try CommandEntry(decoding: prefix + body) }
        }
    }

    @Test func anExpireConditionRedisRefusesIsRejected() {
        for raw: UInt8 in [0, 3, 5, 9, 12, 14, 16, 0xFF] {
            let output = CommandEntry(proposedTS: 1, nowMillis: 2, commands: [
                .expireAtIf(key: [1], atMillis: 5, condition: Command.ExpireCondition(rawValue: raw)),
            ]).encoded()
            #expect(throws: KVError.self, "condition \(raw)") { try CommandEntry(decoding: output) }
        }
        for valid: Command.ExpireCondition in [.noExpiry, .hasExpiry, .later, .earlier, [.hasExpiry, .later],
                                               [.hasExpiry, .earlier]] {
            #expect(valid.isValid)
        }
    }

    @Test func everyCommandRoundTripsAloneAndInABatch() throws {
        for command in Self.samples {
            let entry = CommandEntry(proposedTS: 5, nowMillis: 6, commands: [command])
            #expect(entry.encoded().first == 0x00)
            #expect(try CommandEntry(decoding: entry.encoded()) == entry)
        }
        let batch = CommandEntry(proposedTS: 1, nowMillis: 2, commands: Self.samples)
        #expect(batch.encoded().first == 0x01)
        #expect(try CommandEntry(decoding: batch.encoded()) == batch)
    }

    @Test func everyTruncationAndTrailingByteIsRejected() {
        let encoded = CommandEntry(proposedTS: 1, nowMillis: 2, commands: Self.samples).encoded()
        for length in 0..<encoded.count {
            #expect(throws: KVError.self) { try CommandEntry(decoding: Array(encoded[0..<length])) }
        }
        #expect(throws: KVError.self) { try CommandEntry(decoding: encoded + [0]) }
    }

    @Test func rejectsUnknownVersionTagsAndEnums() {
        var encoded = CommandEntry(proposedTS: 1, nowMillis: 2, commands: [Self.samples[0]]).encoded()
        var badVersion = encoded
        badVersion[1] = 2
        #expect(throws: KVError.self) { try CommandEntry(decoding: badVersion) }
        var badTag = encoded
        badTag[18] = 0xEE
        #expect(throws: KVError.self) { try CommandEntry(decoding: badTag) }
        // SET condition byte sits after tag, key blob (4+1) and value blob (4+2).
        encoded[18 + 1 + 5 + 6] = 9
        #expect(throws: KVError.self) { try CommandEntry(decoding: encoded) }
        #expect(throws: KVError.self) { try CommandEntry(decoding: [0x03, 1]) }
    }

    @Test func rejectsOversizedCountsWithoutAllocating() {
        var bytes: [UInt8] = [0x01, 1] + Array(repeating: 0, count: 16)
        bytes += [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: KVError.self) { try CommandEntry(decoding: bytes) }
        var delete: [UInt8] = [0x00, 1] + Array(repeating: 0, count: 16) + [3]
        delete += [0x7F, 0xFF, 0xFF, 0xFF]
        #expect(throws: KVError.self) { try CommandEntry(decoding: delete) }
    }

    @Test func redisNumbersParseAndPrintLikeRedis() {
        #expect(RedisNumber.parseInteger(Array("-12".utf8)) == -12)
        for bad in ["", "+1", " 1", "01", "-0", "1a", "99999999999999999999"] {
            #expect(RedisNumber.parseInteger(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(RedisNumber.format(10.6) == "10.6")
        #expect(RedisNumber.format(3) == "3")
        #expect(RedisNumber.format(1e20) == "100000000000000000000")
        #expect(RedisNumber.format(-2.5e-7) == "-0.00000025")
        #expect(RedisNumber.parseFloat(Array("nan".utf8)) == nil)
        #expect(RedisNumber.parseFloat(Array("1e3".utf8)) == 1000)
        #expect(RedisNumber.parseFloat(Array("0x10".utf8)) == 16)
        #expect(RedisNumber.parseFloat(Array("-inf".utf8)) == -.infinity)
        #expect(RedisNumber.parseFloat(Array("Infinity".utf8)) == .infinity)
        #expect(RedisNumber.parseFloat(Array("0.0".utf8)) == 0)
        for bad in ["", " 1", "1 ", "1e400", "1e-400", "0x1p-99999", "infx", "1,5"] {
            #expect(RedisNumber.parseFloat(Array(bad.utf8)) == nil, "\(bad)")
        }
        let long = Array(RedisNumber.format(1e300).utf8)
        #expect(RedisNumber.parseFloat(long) == 1e300, "a 301-digit INCRBYFLOAT result reads back")
    }
}

@Suite struct CommandResultCodecTests {
    @Test func roundTripsAndRejectsMalformedInput() throws {
        let results: [CommandResult] = [
            .ok, .null, .integer(-5), .bulk([1, 2]), .array([.bulk([]), .null]), .error(.wrongType),
            .error(.stringTooLong), .reply(.array([.boolean(true), .boolean(false), .double(-1.5)])),
        ]
        let encoded = CommandResultCodec.encode(results)
        #expect(try CommandResultCodec.decode(encoded) == results)
        for length in 0..<encoded.count {
            #expect(throws: KVError.self) { try CommandResultCodec.decode(Array(encoded[0..<length])) }
        }
        #expect(throws: KVError.self) { try CommandResultCodec.decode(encoded + [0]) }
        #expect(throws: KVError.self) { try CommandResultCodec.decode([1, 0, 0, 0, 1, 9]) }
        #expect(throws: KVError.self) { try CommandResultCodec.decode([1, 0, 0, 0, 1, 5, 200]) }
        #expect(try CommandResultCodec.decode([1, 0, 0, 0, 1, 6, 14, 1]) == [.reply(.boolean(true))])
        #expect(throws: KVError.self, "a boolean reply is 0 or 1") {
            try CommandResultCodec.decode([1, 0, 0, 0, 1, 6, 14, 2])
        }
    }
}

extension UInt64 {
    /// The value's bytes, most significant first.
    var bigEndianBytesForTest: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * $0)) } }
}
