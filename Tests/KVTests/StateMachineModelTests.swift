import Foundation
import KV
import Storage
import Testing
import TestSupport

/// Random command sequences through the state machine and through ``RedisModel``: every answer and every
/// key's visible state must agree, with cleartext storage, sealed storage, and sealing switched on half-way;
/// closing and reopening the store in between changes nothing.
@Suite struct StateMachineModelTests {
    enum Sealing: CaseIterable { case never, always, halfway }

    struct Generator {
        var random: SplitMix64
        let keys: [[UInt8]] = ["a", "b", "c", "n", "h"].map { Array($0.utf8) }
        let fields: [[UInt8]] = ["f", "g", "x"].map { Array($0.utf8) }

        mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

        mutating func value() -> [UInt8] {
            pick([Array("1".utf8), Array("-7".utf8), Array("2.5".utf8), Array("hello".utf8), [],
                  Array(repeating: UInt8(int(0...255)), count: int(0...40))])
        }

        mutating func expiry(now: UInt64) -> Command.Expiry {
            switch int(0...3) {
            case 0: return .none
            case 1: return .keep
            default: return .at(UInt64(Int(now) + int(-5...30)))
            }
        }

        mutating func command(now: UInt64) -> Command {
            let key = pick(keys)
            if int(0...2) == 0 { return .list(listCommand(key)) }
            if int(0...3) == 0 { return .sets(setCommand(key)) }
            if int(0...3) == 0 { return .sortedSets(sortedSetCommand(key)) }
            if int(0...15) == 0 { return .sweepExpired(from: pick([[], [0] + key]), limit: UInt32(pick([1, 2, 100]))) }
            switch int(0...22) {
            case 0, 1:
                return .set(key: key, value: value(), condition: pick([.always, .ifAbsent, .ifPresent]),
                            expiry: expiry(now: now), returnOld: int(0...1) == 1)
            case 2: return .multiSet(pairs: (0..<int(1...3)).map { _ in .init(pick(keys), value()) },
                                     onlyIfNoneExist: int(0...1) == 1)
            case 3: return .delete(keys: (0..<int(1...3)).map { _ in pick(keys) })
            case 4: return .incrementBy(key: key, delta: pick([1, -1, 5, Int64.max, Int64.min]))
            case 5: return .incrementByFloat(key: key, delta: pick([0.1, -2.5, 1e20, 3]))
            case 6: return .append(key: key, value: value())
            case 7: return .setRange(key: key, offset: UInt64(int(0...12)), value: value())
            case 8: return .expireAt(key: key, atMillis: UInt64(Int(now) + int(-5...30)))
            case 9: return .persist(key: key)
            case 10: return .getDelete(key: key)
            case 11: return .getExpire(key: key, expiry: expiry(now: now))
            case 12: return .hashSet(key: key, fields: (0..<int(1...3)).map { _ in .init(pick(fields), value()) })
            case 13: return .hashDelete(key: key, fields: (0..<int(1...2)).map { _ in pick(fields) })
            case 14: return .hashIncrementBy(key: key, field: pick(fields), delta: pick([1, 7, -3, Int64.max]))
            case 15:
                let conditions: [Command.ExpireCondition] = [.noExpiry, .hasExpiry, .later, .earlier,
                                                              [.hasExpiry, .later], [.hasExpiry, .earlier]]
                return .expireAtIf(key: key, atMillis: UInt64(Int(now) + int(-5...30)), condition: pick(conditions))
            case 16: return .rename(from: key, to: pick(keys), onlyIfAbsent: int(0...1) == 1)
            case 17: return .copy(from: key, to: pick(keys), replace: int(0...1) == 1)
            case 18: return .hashIncrementByFloat(key: key, field: pick(fields), delta: pick([0.5, -3, 1e300]))
            case 19: return .hashSetIfAbsent(key: key, field: pick(fields), value: value())
            case 22: return .flushAll
            case 20: return .setBit(key: key, offset: UInt64(int(0...40)), bit: int(0...1) == 1)
            default:
                let operation = pick([Command.BitOperation.and, .or, .xor, .not])
                let sources = operation == .not ? [pick(keys)] : (0..<int(1...3)).map { _ in pick(keys) }
                return .bitOperation(operation, destination: key, sources: sources)
            }
        }

        mutating func setCommand(_ key: [UInt8]) -> SetCommand {
            let members: [[UInt8]] = ["x", "y", "z", "", "1"].map { Array($0.utf8) }
            func some() -> [[UInt8]] { (0..<int(1...3)).map { _ in pick(members) } }
            switch int(0...5) {
            case 0, 1: return .add(key: key, members: some())
            case 2: return .remove(key: key, members: some())
            case 3: return .move(source: key, destination: pick(keys), member: pick(members))
            default:
                return .store(pick([.union, .intersection, .difference]), destination: pick(keys),
                              keys: (0..<int(1...3)).map { _ in pick(keys) })
            }
        }

        mutating func sortedSetCommand(_ key: [UInt8]) -> SortedSetCommand {
            let members: [[UInt8]] = ["x", "y", "z", "", "1"].map { Array($0.utf8) }
            func score() -> Double { pick([0, 1, -2.5, 3, 7, .infinity, -.infinity]) }
            let options: [SortedSetAddOptions] = [[], [], .onlyNew, .onlyExisting, .greater, .less, .changed,
                                                  [.onlyExisting, .greater, .changed], .increment]
            func range() -> SortedSetRange {
                switch int(0...2) {
                case 0: return .rank(start: Int64(int(-4...4)), stop: Int64(int(-4...4)))
                case 1: return .score(min: ScoreBound(score(), exclusive: int(0...1) == 1),
                                      max: ScoreBound(score(), exclusive: int(0...1) == 1))
                default:
                    let bounds: [LexBound] = [.minimum, .maximum, .inclusive(pick(members)), .exclusive(pick(members))]
                    return .lex(min: pick(bounds), max: pick(bounds))
                }
            }
            switch int(0...7) {
            case 0, 1:
                let option = pick(options)
                let entries = (0..<(option.contains(.increment) ? 1 : int(1...3))).map { _ in
                    ScoredMember(score: score(), member: pick(members))
                }
                return .add(key: key, entries: entries, options: option)
            case 2: return .remove(key: key, members: (0..<int(1...3)).map { _ in pick(members) })
            case 3: return .removeRange(key: key, range())
            case 4:
                return .pop(keys: (0..<int(1...2)).map { _ in pick(keys) }, highest: int(0...1) == 1,
                            count: pick([nil, 0, 1, 2, 5]), form: pick([.single, .multi, .keyed]))
            case 5:
                var query = SortedSetQuery(range(), reverse: int(0...1) == 1)
                if case .rank = query.range {} else if int(0...1) == 1 {
                    query.limit = (Int64(int(-1...2)), Int64(int(-1...3)))
                }
                return .rangeStore(destination: pick(keys), source: key, query)
            default:
                let sources = (0..<int(1...3)).map { _ in pick(keys) }
                let weights: [Double]? = int(0...1) == 0 ? nil : sources.map { _ in pick([1, 2, -1, 0.5]) }
                let operation = pick([SortedSetOperation.union, .intersection, .difference])
                return .store(operation, destination: pick(keys), keys: sources,
                              weights: operation == .difference ? nil : weights, aggregate: pick([.sum, .min, .max]))
            }
        }

        mutating func listCommand(_ key: [UInt8]) -> ListCommand {
            let elements: [[UInt8]] = ["x", "y", "z", ""].map { Array($0.utf8) }
            let index = Int64(int(-4...4))
            switch int(0...8) {
            case 0, 1:
                return .push(key: key, elements: (0..<int(1...4)).map { _ in pick(elements) }, left: int(0...1) == 1,
                             onlyIfExists: int(0...3) == 0)
            case 2: return .pop(key: key, left: int(0...1) == 1, count: pick([nil, 0, 1, 3]))
            case 3: return .set(key: key, index: index, element: pick(elements))
            case 4: return .insert(key: key, before: int(0...1) == 1, pivot: pick(elements), element: pick(elements))
            case 5: return .remove(key: key, count: index, element: pick(elements))
            case 6: return .trim(key: key, start: index, stop: Int64(int(-4...4)))
            case 7: return .move(source: key, destination: pick(keys), fromLeft: int(0...1) == 1, toLeft: int(0...1) == 1)
            default: return .multiPop(keys: (0..<int(1...3)).map { _ in pick(keys) }, left: int(0...1) == 1,
                                      count: Int64(int(1...3)))
            }
        }
    }

    /// Every collection's element rows are still there and nothing else is: a deleted, replaced or emptied
    /// collection leaves no element row behind (an expired one keeps its rows until the key is written
    /// again); a sorted set has one member row per member, plus its tree's node rows.
    static func expectNoOrphanElements(_ store: MVCCStore, keys: [[UInt8]], seed: UInt64, step: Int,
                                       commands: [Command]) throws {
        var rowsByGeneration: [UInt64: (members: UInt64, nodes: UInt64)] = [:]
        let elementRows = try store.scan(from: [0x01], to: [0x02], nowMillis: 0, limit: 100_000)
        for row in elementRows {
            let generation = UInt64(bigEndianBytes: row.key[1..<9])!
            var counts = rowsByGeneration[generation] ?? (0, 0)
            counts.members += 1
            rowsByGeneration[generation] = counts
        }
        var owned: UInt64 = 0
        for key in keys {
            guard let newest = try store.latestVersion(of: RedisKeyspace.primary(key)), !newest.isTombstone else {
                continue
            }
            let value = try RedisValue(decoding: newest.body)
            guard let generation = value.generation else { continue }
            let stored = rowsByGeneration[generation]?.members ?? 0
            owned += stored
            switch value {
            case .list(let header): #expect(stored == header.count, "seed \(seed) step \(step) after \(commands)")
            case .set(let header), .hash(let header):
                #expect(stored == header.count, "seed \(seed) step \(step) after \(commands)")
            case .sortedSet(let header):
                #expect(stored > header.count, "seed \(seed) step \(step): member rows and at least a root node")
            case .stream(let header): #expect(stored == header.count, "seed \(seed) step \(step) after \(commands)")
            case .string: break
            }
        }
        #expect(UInt64(elementRows.count) == owned, "seed \(seed) step \(step) after \(commands)")
    }

    static func run(seed: UInt64, sealing: Sealing, dir: TemporaryDirectory) throws {
        var generator = Generator(random: SplitMix64(seed: seed))
        var model = RedisModel()
        var store = try MVCCStore(path: dir.file("db-\(seed)"))
        let sealer = makeStorageSealer()
        func configure(_ store: MVCCStore, sealed: Bool) {
            store.setSealer(sealer)
            store.setSealsWrites(sealed)
        }
        configure(store, sealed: sealing == .always)
        var machine = KVStateMachine(store: store)
        var now: UInt64 = 1_000
        var index: UInt64 = 0
        let entries = 60
        for step in 0..<entries {
            if sealing == .halfway && step == entries / 2 { store.setSealsWrites(true) }
            if step == entries / 3 {
                store.close()
                store = try MVCCStore(path: dir.file("db-\(seed)"))
                configure(store, sealed: sealing == .always || (sealing == .halfway && step >= entries / 2))
                machine = KVStateMachine(store: store)
            }
            now += UInt64(generator.int(0...8))
            let commands = (0..<generator.int(1...4)).map { _ in generator.command(now: now) }
            index += 1
            let entry = CommandEntry(proposedTS: now * 1000, nowMillis: now, commands: commands)
            let outcome = machine.apply([CommittedEntry(index: index, term: 1, data: entry.encoded())])
            #expect(outcome.halt == nil, "seed \(seed)")
            let expected = commands.map { model.apply($0, now: now) }
            #expect(outcome.results[index] == expected, "seed \(seed) step \(step) commands \(commands)")
            let reader = KVReader(store: store)
            for key in generator.keys {
                let actual = try reader.lookup(key, nowMillis: now)
                let wanted = model.live(key, now)
                if case .list(let header)? = actual?.value, case .list(let modelled)? = wanted?.value {
                    #expect(header.count == modelled.count, "seed \(seed) step \(step) key \(key)")
                    #expect(try reader.listElements(header, 0..<header.count) == wanted?.elements,
                            "seed \(seed) step \(step) key \(key)")
                } else if case .hash(let header)? = actual?.value, case .hash(let modelled)? = wanted?.value {
                    #expect(header.count == modelled.count, "seed \(seed) step \(step) key \(key)")
                    let fields = try reader.hashFields(header)
                    #expect(Dictionary(uniqueKeysWithValues: fields.map { ($0.field, $0.value) }) == wanted?.fields,
                            "seed \(seed) step \(step) key \(key)")
                } else if case .sortedSet(let header)? = actual?.value, case .sortedSet(let modelled)? = wanted?.value {
                    #expect(header.count == modelled.count, "seed \(seed) step \(step) key \(key)")
                    #expect(try reader.sortedSetEntries(header, 0..<header.count) == RedisModel.ordered(wanted!.scores),
                            "seed \(seed) step \(step) key \(key)")
                } else if case .set(let header)? = actual?.value, case .set(let modelled)? = wanted?.value {
                    #expect(header.count == modelled.count, "seed \(seed) step \(step) key \(key)")
                    #expect(Set(try reader.setMembers(header)) == wanted?.members, "seed \(seed) step \(step) key \(key)")
                } else {
                    #expect(actual?.value == wanted?.value, "seed \(seed) step \(step) key \(key)")
                }
                #expect(actual?.expireAtMillis == wanted?.expireAt, "seed \(seed) step \(step) key \(key)")
            }
            try expectNoOrphanElements(store, keys: generator.keys, seed: seed, step: step, commands: commands)
        }
        #expect(try store.appliedIndex() == index)
        store.close()
    }

    @Test(arguments: Sealing.allCases)
    func agreesWithTheModel(sealing: Sealing) async throws {
        try await CPUBoundWork.run {
            let dir = TemporaryDirectory("kv-model")
            defer { dir.remove() }
            for seed in 1...40 as ClosedRange<UInt64> { try Self.run(seed: seed, sealing: sealing, dir: dir) }
        }
    }
}
