import DurableIO

/// The body of a sorted-set command (tag ``CommandCodec/Tag/sortedSets``): a sub-tag, then its fields.
/// Scores are IEEE 754 doubles (big-endian bits), never NaN.
extension CommandCodec {
    enum SortedSetTag: UInt8 {
        case add = 1, remove, removeRange, pop, rangeStore, store
    }

    static func encode(_ command: SortedSetCommand, into output: inout [UInt8]) {
        switch command {
        case .add(let key, let entries, let options):
            output.append(SortedSetTag.add.rawValue)
            output.appendBlob(key)
            output.append(options.rawValue)
            output.appendBigEndian(UInt32(entries.count))
            for entry in entries { entry.encode(into: &output) }
        case .remove(let key, let members):
            output.append(SortedSetTag.remove.rawValue)
            output.appendBlob(key)
            output.appendBigEndian(UInt32(members.count))
            for member in members { output.appendBlob(member) }
        case .removeRange(let key, let range):
            output.append(SortedSetTag.removeRange.rawValue)
            output.appendBlob(key)
            encode(range, into: &output)
        case .pop(let keys, let highest, let count, let form):
            output.append(SortedSetTag.pop.rawValue)
            output.appendBigEndian(UInt32(keys.count))
            for key in keys { output.appendBlob(key) }
            output.append(highest ? 1 : 0)
            output.append(count == nil ? 0 : 1)
            output.appendBigEndian(UInt64(bitPattern: count ?? 0))
            output.append(form.rawValue)
        case .rangeStore(let destination, let source, let query):
            output.append(SortedSetTag.rangeStore.rawValue)
            output.appendBlob(destination)
            output.appendBlob(source)
            encode(query.range, into: &output)
            output.append(query.reverse ? 1 : 0)
            output.append(query.limit == nil ? 0 : 1)
            output.appendBigEndian(UInt64(bitPattern: query.limit?.offset ?? 0))
            output.appendBigEndian(UInt64(bitPattern: query.limit?.count ?? 0))
        case .store(let operation, let destination, let keys, let weights, let aggregate):
            output.append(SortedSetTag.store.rawValue)
            output.append(operation.rawValue)
            output.appendBlob(destination)
            output.appendBigEndian(UInt32(keys.count))
            for key in keys { output.appendBlob(key) }
            output.append(weights == nil ? 0 : 1)
            for weight in weights ?? [] { output.appendBigEndian(weight.bitPattern) }
            output.append(aggregate.rawValue)
        }
    }

    private static func encode(_ range: SortedSetRange, into output: inout [UInt8]) {
        switch range {
        case .rank(let start, let stop):
            output.append(1)
            output.appendBigEndian(UInt64(bitPattern: start))
            output.appendBigEndian(UInt64(bitPattern: stop))
        case .score(let min, let max):
            output.append(2)
            for bound in [min, max] {
                output.appendBigEndian(bound.value.bitPattern)
                output.append(bound.exclusive ? 1 : 0)
            }
        case .lex(let min, let max):
            output.append(3)
            for bound in [min, max] {
                switch bound {
                case .minimum: output.append(0)
                case .maximum: output.append(1)
                case .inclusive(let bytes):
                    output.append(2)
                    output.appendBlob(bytes)
                case .exclusive(let bytes):
                    output.append(3)
                    output.appendBlob(bytes)
                }
            }
        }
    }

    static func decodeSortedSet(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> SortedSetCommand {
        let rawTag = try reader.uint8()
        guard let tag = SortedSetTag(rawValue: rawTag) else { throw .invalid("unknown sorted set command tag \(rawTag)") }
        func keys() throws(BinaryReader.Failure) -> [[UInt8]] {
            try list(&reader) { (reader) throws(BinaryReader.Failure) in try key(&reader) }
        }
        switch tag {
        case .add:
            let key = try key(&reader)
            let options = SortedSetAddOptions(rawValue: try reader.uint8())
            guard SortedSetAddOptions.all.isSuperset(of: options),
                  !options.isSuperset(of: [.onlyNew, .onlyExisting]), !options.isSuperset(of: [.greater, .less]),
                  !(options.contains(.onlyNew) && !options.isDisjoint(with: [.greater, .less])) else {
                throw .invalid("ZADD options \(options.rawValue)")
            }
            let entries = try list(&reader) { (reader) throws(BinaryReader.Failure) in
                let score = Double(bitPattern: try reader.uint64())
                guard !score.isNaN else { throw .invalid("a NaN score") }
                return ScoredMember(score: score, member: try value(&reader))
            }
            guard !options.contains(.increment) || entries.count == 1 else { throw .invalid("ZADD INCR with many members") }
            return .add(key: key, entries: entries, options: options)
        case .remove:
            let key = try key(&reader)
            return .remove(key: key, members: try list(&reader) { (reader) throws(BinaryReader.Failure) in try value(&reader) })
        case .removeRange:
            return .removeRange(key: try key(&reader), try range(&reader))
        case .pop:
            let keys = try keys()
            let highest = try flag(&reader)
            let counted = try flag(&reader)
            let count = Int64(bitPattern: try reader.uint64())
            guard count >= 0, counted || count == 0 else { throw .invalid("pop count \(count)") }
            let rawForm = try reader.uint8()
            guard let form = SortedSetPopForm(rawValue: rawForm) else { throw .invalid("unknown pop form \(rawForm)") }
            return .pop(keys: keys, highest: highest, count: counted ? count : nil, form: form)
        case .rangeStore:
            let destination = try key(&reader), source = try key(&reader)
            let range = try range(&reader)
            let reverse = try flag(&reader), limited = try flag(&reader)
            let offset = Int64(bitPattern: try reader.uint64()), count = Int64(bitPattern: try reader.uint64())
            guard limited || (offset == 0 && count == 0) else { throw .invalid("an unused LIMIT") }
            return .rangeStore(destination: destination, source: source,
                               SortedSetQuery(range, reverse: reverse, limit: limited ? (offset, count) : nil))
        case .store:
            let rawOperation = try reader.uint8()
            guard let operation = SortedSetOperation(rawValue: rawOperation) else {
                throw .invalid("unknown sorted set operation \(rawOperation)")
            }
            let destination = try key(&reader)
            let keys = try keys()
            var weights: [Double]?
            if try flag(&reader) {
                var read: [Double] = []
                for _ in keys {
                    let weight = Double(bitPattern: try reader.uint64())
                    guard !weight.isNaN else { throw .invalid("a NaN weight") }
                    read.append(weight)
                }
                weights = read
            }
            let rawAggregate = try reader.uint8()
            guard let aggregate = ScoreAggregate(rawValue: rawAggregate) else {
                throw .invalid("unknown aggregate \(rawAggregate)")
            }
            return .store(operation, destination: destination, keys: keys, weights: weights, aggregate: aggregate)
        }
    }

    private static func range(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> SortedSetRange {
        switch try reader.uint8() {
        case 1:
            return .rank(start: Int64(bitPattern: try reader.uint64()), stop: Int64(bitPattern: try reader.uint64()))
        case 2:
            func bound() throws(BinaryReader.Failure) -> ScoreBound {
                let value = Double(bitPattern: try reader.uint64())
                guard !value.isNaN else { throw .invalid("a NaN score bound") }
                return ScoreBound(value, exclusive: try flag(&reader))
            }
            return .score(min: try bound(), max: try bound())
        case 3:
            func bound() throws(BinaryReader.Failure) -> LexBound {
                switch try reader.uint8() {
                case 0: return .minimum
                case 1: return .maximum
                case 2: return .inclusive(try value(&reader))
                case 3: return .exclusive(try value(&reader))
                case let kind: throw .invalid("unknown lex bound \(kind)")
                }
            }
            return .lex(min: try bound(), max: try bound())
        case let kind:
            throw .invalid("unknown sorted set range \(kind)")
        }
    }
}
