import DurableIO

/// Encodes and decodes one ``Command``: a tag byte, then the command's fields.
enum CommandCodec {
    enum Tag: UInt8 {
        case set = 1, multiSet, delete, incrementBy, incrementByFloat, append, setRange, expireAt, persist
        case getDelete, getExpire, hashSet, hashDelete, hashIncrementBy, registerMember
        case expireAtIf, rename, copy, hashIncrementByFloat, hashSetIfAbsent, setBit, bitOperation, flushAll
        case list, sets, sweepExpired, database, flushDatabase, move, copyToDatabase, swapDatabases
        case hyperLogLogAdd, hyperLogLogMerge, bitField, sortedSets, streams, streamGroups
    }

    static func encode(_ command: Command, into output: inout [UInt8]) {
        switch command {
        case .set(let key, let value, let condition, let expiry, let returnOld):
            output.append(Tag.set.rawValue)
            output.appendBlob(key)
            output.appendBlob(value)
            output.append(condition.rawValue)
            encode(expiry, into: &output)
            output.append(returnOld ? 1 : 0)
        case .multiSet(let pairs, let onlyIfNoneExist):
            output.append(Tag.multiSet.rawValue)
            encode(pairs, into: &output)
            output.append(onlyIfNoneExist ? 1 : 0)
        case .delete(let keys):
            output.append(Tag.delete.rawValue)
            output.appendBigEndian(UInt32(keys.count))
            for key in keys { output.appendBlob(key) }
        case .incrementBy(let key, let delta):
            keyed(.incrementBy, key, &output)
            output.appendBigEndian(UInt64(bitPattern: delta))
        case .incrementByFloat(let key, let delta):
            keyed(.incrementByFloat, key, &output)
            output.appendBigEndian(delta.bitPattern)
        case .append(let key, let value):
            keyed(.append, key, &output)
            output.appendBlob(value)
        case .setRange(let key, let offset, let value):
            keyed(.setRange, key, &output)
            output.appendBigEndian(offset)
            output.appendBlob(value)
        case .expireAt(let key, let atMillis):
            keyed(.expireAt, key, &output)
            output.appendBigEndian(atMillis)
        case .expireAtIf(let key, let atMillis, let condition):
            keyed(.expireAtIf, key, &output)
            output.appendBigEndian(atMillis)
            output.append(condition.rawValue)
        case .rename(let from, let to, let onlyIfAbsent):
            keyed(.rename, from, &output)
            output.appendBlob(to)
            output.append(onlyIfAbsent ? 1 : 0)
        case .copy(let from, let to, let replace):
            keyed(.copy, from, &output)
            output.appendBlob(to)
            output.append(replace ? 1 : 0)
        case .hashIncrementByFloat(let key, let field, let delta):
            keyed(.hashIncrementByFloat, key, &output)
            output.appendBlob(field)
            output.appendBigEndian(delta.bitPattern)
        case .hashSetIfAbsent(let key, let field, let value):
            keyed(.hashSetIfAbsent, key, &output)
            output.appendBlob(field)
            output.appendBlob(value)
        case .setBit(let key, let offset, let bit):
            keyed(.setBit, key, &output)
            output.appendBigEndian(offset)
            output.append(bit ? 1 : 0)
        case .bitOperation(let operation, let destination, let sources):
            keyed(.bitOperation, destination, &output)
            output.append(operation.rawValue)
            output.appendBigEndian(UInt32(sources.count))
            for source in sources { output.appendBlob(source) }
        case .flushAll: output.append(Tag.flushAll.rawValue)
        case .persist(let key): keyed(.persist, key, &output)
        case .getDelete(let key): keyed(.getDelete, key, &output)
        case .getExpire(let key, let expiry):
            keyed(.getExpire, key, &output)
            encode(expiry, into: &output)
        case .hashSet(let key, let fields):
            keyed(.hashSet, key, &output)
            encode(fields, into: &output)
        case .hashDelete(let key, let fields):
            keyed(.hashDelete, key, &output)
            output.appendBigEndian(UInt32(fields.count))
            for field in fields { output.appendBlob(field) }
        case .hashIncrementBy(let key, let field, let delta):
            keyed(.hashIncrementBy, key, &output)
            output.appendBlob(field)
            output.appendBigEndian(UInt64(bitPattern: delta))
        case .list(let command):
            output.append(Tag.list.rawValue)
            encode(command, into: &output)
        case .sets(let command):
            output.append(Tag.sets.rawValue)
            encode(command, into: &output)
        case .sortedSets(let command):
            output.append(Tag.sortedSets.rawValue)
            encode(command, into: &output)
        case .streams(let command):
            output.append(Tag.streams.rawValue)
            encode(command, into: &output)
        case .streamGroups(let command):
            output.append(Tag.streamGroups.rawValue)
            encode(command, into: &output)
        case .sweepExpired(let from, let limit):
            keyed(.sweepExpired, from, &output)
            output.appendBigEndian(limit)
        case .database(let database, let command):
            output.append(Tag.database.rawValue)
            output.append(database)
            encode(command, into: &output)
        case .flushDatabase: output.append(Tag.flushDatabase.rawValue)
        case .bitField(let key, let operations):
            keyed(.bitField, key, &output)
            output.appendBigEndian(UInt32(operations.count))
            for operation in operations {
                switch operation {
                case .get(let field, let offset):
                    output += [0, field.signed ? 1 : 0, field.bits]
                    output.appendBigEndian(offset)
                case .set(let field, let offset, let value, let overflow):
                    output += [1, field.signed ? 1 : 0, field.bits]
                    output.appendBigEndian(offset)
                    output.appendBigEndian(UInt64(bitPattern: value))
                    output.append(overflow.rawValue)
                case .incrementBy(let field, let offset, let delta, let overflow):
                    output += [2, field.signed ? 1 : 0, field.bits]
                    output.appendBigEndian(offset)
                    output.appendBigEndian(UInt64(bitPattern: delta))
                    output.append(overflow.rawValue)
                }
            }
        case .hyperLogLogAdd(let key, let elements):
            keyed(.hyperLogLogAdd, key, &output)
            output.appendBigEndian(UInt32(elements.count))
            for element in elements { output.appendBlob(element) }
        case .hyperLogLogMerge(let destination, let sources):
            keyed(.hyperLogLogMerge, destination, &output)
            output.appendBigEndian(UInt32(sources.count))
            for source in sources { output.appendBlob(source) }
        case .swapDatabases(let first, let second):
            output.append(Tag.swapDatabases.rawValue)
            output.append(first)
            output.append(second)
        case .move(let key, let database):
            keyed(.move, key, &output)
            output.append(database)
        case .copyToDatabase(let from, let to, let database, let replace):
            keyed(.copyToDatabase, from, &output)
            output.appendBlob(to)
            output.append(database)
            output.append(replace ? 1 : 0)
        case .registerMember(let id, let name, let address):
            output.append(Tag.registerMember.rawValue)
            output.appendBigEndian(id)
            output.appendBlob(name)
            output.appendBlob(address)
        }
    }

    static func keyed(_ tag: Tag, _ key: [UInt8], _ output: inout [UInt8]) {
        output.append(tag.rawValue)
        output.appendBlob(key)
    }

    private static func encode(_ expiry: Command.Expiry, into output: inout [UInt8]) {
        switch expiry {
        case .none: output.append(0)
        case .at(let millis):
            output.append(1)
            output.appendBigEndian(millis)
        case .keep: output.append(2)
        }
    }

    private static func encode(_ pairs: [Command.KeyValue], into output: inout [UInt8]) {
        output.appendBigEndian(UInt32(pairs.count))
        for pair in pairs {
            output.appendBlob(pair.key)
            output.appendBlob(pair.value)
        }
    }

    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> Command {
        let rawTag = try reader.uint8()
        guard let tag = Tag(rawValue: rawTag) else { throw .invalid("unknown command tag \(rawTag)") }
        switch tag {
        case .set:
            let key = try key(&reader)
            let value = try value(&reader)
            let rawCondition = try reader.uint8()
            guard let condition = Command.SetCondition(rawValue: rawCondition) else {
                throw .invalid("unknown SET condition \(rawCondition)")
            }
            return .set(key: key, value: value, condition: condition, expiry: try expiry(&reader),
                        returnOld: try flag(&reader))
        case .multiSet:
            return .multiSet(pairs: try pairs(&reader), onlyIfNoneExist: try flag(&reader))
        case .delete:
            let keys = try list(&reader) { (reader) throws(BinaryReader.Failure) in try key(&reader) }
            return .delete(keys: keys)
        case .incrementBy: return .incrementBy(key: try key(&reader), delta: Int64(bitPattern: try reader.uint64()))
        case .incrementByFloat:
            return .incrementByFloat(key: try key(&reader), delta: Double(bitPattern: try reader.uint64()))
        case .append: return .append(key: try key(&reader), value: try value(&reader))
        case .setRange:
            return .setRange(key: try key(&reader), offset: try reader.uint64(), value: try value(&reader))
        case .expireAt: return .expireAt(key: try key(&reader), atMillis: try reader.uint64())
        case .expireAtIf:
            let key = try key(&reader)
            let atMillis = try reader.uint64()
            let condition = Command.ExpireCondition(rawValue: try reader.uint8())
            guard condition.isValid else { throw .invalid("invalid EXPIRE condition \(condition.rawValue)") }
            return .expireAtIf(key: key, atMillis: atMillis, condition: condition)
        case .rename:
            return .rename(from: try key(&reader), to: try key(&reader), onlyIfAbsent: try flag(&reader))
        case .copy:
            return .copy(from: try key(&reader), to: try key(&reader), replace: try flag(&reader))
        case .hashIncrementByFloat:
            return .hashIncrementByFloat(key: try key(&reader), field: try value(&reader),
                                         delta: Double(bitPattern: try reader.uint64()))
        case .hashSetIfAbsent:
            return .hashSetIfAbsent(key: try key(&reader), field: try value(&reader), value: try value(&reader))
        case .setBit:
            let key = try key(&reader)
            let offset = try reader.uint64()
            guard offset < Command.maxBitOffset else { throw .invalid("bit offset \(offset) out of range") }
            return .setBit(key: key, offset: offset, bit: try flag(&reader))
        case .bitOperation:
            let destination = try key(&reader)
            let rawOperation = try reader.uint8()
            guard let operation = Command.BitOperation(rawValue: rawOperation) else {
                throw .invalid("unknown BITOP operation \(rawOperation)")
            }
            let sources = try list(&reader) { (reader) throws(BinaryReader.Failure) in try key(&reader) }
            guard operation != .not || sources.count == 1 else { throw .invalid("BITOP NOT with \(sources.count) sources") }
            return .bitOperation(operation, destination: destination, sources: sources)
        case .flushAll: return .flushAll
        case .persist: return .persist(key: try key(&reader))
        case .getDelete: return .getDelete(key: try key(&reader))
        case .getExpire: return .getExpire(key: try key(&reader), expiry: try expiry(&reader))
        case .hashSet:
            return .hashSet(key: try key(&reader), fields: try pairs(&reader))
        case .hashDelete:
            let key = try key(&reader)
            return .hashDelete(key: key, fields: try list(&reader) { (reader) throws(BinaryReader.Failure) in
                try value(&reader)
            })
        case .hashIncrementBy:
            return .hashIncrementBy(key: try key(&reader), field: try value(&reader),
                                    delta: Int64(bitPattern: try reader.uint64()))
        case .list: return .list(try decodeList(&reader))
        case .sets: return .sets(try decodeSet(&reader))
        case .sortedSets: return .sortedSets(try decodeSortedSet(&reader))
        case .streams: return .streams(try decodeStream(&reader))
        case .streamGroups: return .streamGroups(try decodeStreamGroup(&reader))
        case .database:
            let database = try databaseNumber(&reader)
            let command = try decode(&reader)
            if case .database = command { throw .invalid("a database command inside another") }
            return .database(database, command)
        case .flushDatabase: return .flushDatabase
        case .bitField:
            let key = try key(&reader)
            let count = Int(try reader.uint32())
            guard (1...CommandEntry.Limits.maxItemsPerCommand).contains(count) else { throw .invalid("\(count) BITFIELD operations") }
            var operations: [BitField.Operation] = []
            for _ in 0..<count {
                let kind = try reader.uint8()
                let signed = try flag(&reader)
                let bits = try reader.uint8()
                guard bits >= 1, bits <= (signed ? 64 : 63) else { throw .invalid("BITFIELD width \(bits)") }
                let offset = try reader.uint64()
                guard offset + UInt64(bits) <= Command.maxBitOffset + 64 else { throw .invalid("BITFIELD offset \(offset)") }
                let field = BitField.Field(signed: signed, bits: bits)
                switch kind {
                case 0: operations.append(.get(field, offset: offset))
                case 1, 2:
                    let value = Int64(bitPattern: try reader.uint64())
                    let rawOverflow = try reader.uint8()
                    guard let overflow = BitField.Overflow(rawValue: rawOverflow) else {
                        throw .invalid("BITFIELD overflow \(rawOverflow)")
                    }
                    operations.append(kind == 1 ? .set(field, offset: offset, value: value, overflow: overflow)
                                                : .incrementBy(field, offset: offset, delta: value, overflow: overflow))
                default: throw .invalid("BITFIELD operation \(kind)")
                }
            }
            return .bitField(key: key, operations: operations)
        case .hyperLogLogAdd:
            let key = try key(&reader)
            return .hyperLogLogAdd(key: key, elements: try list(&reader, allowingEmpty: true) {
                (reader) throws(BinaryReader.Failure) in try value(&reader)
            })
        case .hyperLogLogMerge:
            let destination = try key(&reader)
            return .hyperLogLogMerge(destination: destination, sources: try list(&reader, allowingEmpty: true) {
                (reader) throws(BinaryReader.Failure) in try key(&reader)
            })
        case .swapDatabases: return .swapDatabases(try databaseNumber(&reader), try databaseNumber(&reader))
        case .move: return .move(key: try key(&reader), database: try databaseNumber(&reader))
        case .copyToDatabase:
            return .copyToDatabase(from: try key(&reader), to: try key(&reader), database: try databaseNumber(&reader),
                                   replace: try flag(&reader))
        case .sweepExpired:
            let from = try key(&reader)
            let limit = try reader.uint32()
            guard (1...Command.maxSweepKeys).contains(limit) else { throw .invalid("sweep limit \(limit)") }
            return .sweepExpired(from: from, limit: limit)
        case .registerMember:
            let id = try reader.uint64()
            let name = try reader.blob(limit: MemberDirectory.maxFieldBytes)
            let address = try reader.blob(limit: MemberDirectory.maxFieldBytes)
            guard id != 0, !name.isEmpty, !address.isEmpty else { throw .invalid("member registration without id, name or address") }
            return .registerMember(id: id, name: name, address: address)
        }
    }

    static func databaseNumber(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> UInt8 {
        let database = try reader.uint8()
        guard Int(database) < RedisKeyspace.databaseCount else { throw .invalid("database \(database)") }
        return database
    }

    static func key(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> [UInt8] {
        try reader.blob(limit: CommandEntry.Limits.maxKeyBytes)
    }

    static func value(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> [UInt8] {
        try reader.blob(limit: CommandEntry.Limits.maxValueBytes)
    }

    static func flag(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> Bool {
        let byte = try reader.uint8()
        guard byte <= 1 else { throw .invalid("flag byte \(byte) is neither 0 nor 1") }
        return byte == 1
    }

    static func expiry(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> Command.Expiry {
        switch try reader.uint8() {
        case 0: return .none
        case 1: return .at(try reader.uint64())
        case 2: return .keep
        case let kind: throw .invalid("unknown expiry kind \(kind)")
        }
    }

    /// A counted list of items; empty only when `allowingEmpty` (PFADD and PFMERGE take none).
    static func list<Element>(
        _ reader: inout BinaryReader, allowingEmpty: Bool = false,
        _ element: (inout BinaryReader) throws(BinaryReader.Failure) -> Element
    ) throws(BinaryReader.Failure) -> [Element] {
        let count = Int(try reader.uint32())
        guard count <= CommandEntry.Limits.maxItemsPerCommand else { throw .invalid("\(count) items in one command") }
        guard count > 0 || allowingEmpty else { throw .invalid("command without items") }
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try element(&reader)) }
        return result
    }

    static func pairs(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> [Command.KeyValue] {
        try list(&reader) { (reader) throws(BinaryReader.Failure) in
            Command.KeyValue(try key(&reader), try value(&reader))
        }
    }
}
