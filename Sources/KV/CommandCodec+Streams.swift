import DurableIO

/// The body of a stream command (tag ``CommandCodec/Tag/streams``): a sub-tag, then its fields.
extension CommandCodec {
    enum StreamTag: UInt8 {
        case add = 1, delete, trim, setID
    }

    static func encode(_ command: StreamCommand, into output: inout [UInt8]) {
        switch command {
        case .add(let key, let id, let fields, let makeStream, let trim):
            output.append(StreamTag.add.rawValue)
            output.appendBlob(key)
            switch id {
            case .auto: output.append(0)
            case .autoSequence(let ms):
                output.append(1)
                output.appendBigEndian(ms)
            case .explicit(let id):
                output.append(2)
                id.encode(into: &output)
            }
            output.appendBigEndian(UInt32(fields.count))
            for field in fields { output.appendBlob(field) }
            output.append(makeStream ? 1 : 0)
            encode(trim, into: &output)
        case .delete(let key, let ids):
            output.append(StreamTag.delete.rawValue)
            output.appendBlob(key)
            output.appendBigEndian(UInt32(ids.count))
            for id in ids { id.encode(into: &output) }
        case .trim(let key, let trim):
            output.append(StreamTag.trim.rawValue)
            output.appendBlob(key)
            encode(trim, into: &output)
        case .setID(let key, let id, let entriesAdded, let maxDeletedID):
            output.append(StreamTag.setID.rawValue)
            output.appendBlob(key)
            id.encode(into: &output)
            output.append(entriesAdded == nil ? 0 : 1)
            output.appendBigEndian(entriesAdded ?? 0)
            output.append(maxDeletedID == nil ? 0 : 1)
            (maxDeletedID ?? .zero).encode(into: &output)
        }
    }

    private static func encode(_ trim: StreamTrim?, into output: inout [UInt8]) {
        guard let trim else {
            output.append(0)
            return
        }
        switch trim.threshold {
        case .maxLength(let length):
            output.append(1)
            output.appendBigEndian(length)
        case .minID(let id):
            output.append(2)
            id.encode(into: &output)
        }
        output.append(trim.approximate ? 1 : 0)
        output.append(trim.limit == nil ? 0 : 1)
        output.appendBigEndian(trim.limit ?? 0)
    }

    static func decodeStream(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> StreamCommand {
        let rawTag = try reader.uint8()
        guard let tag = StreamTag(rawValue: rawTag) else { throw .invalid("unknown stream command tag \(rawTag)") }
        switch tag {
        case .add:
            let key = try key(&reader)
            let id: StreamIDRequest
            switch try reader.uint8() {
            case 0: id = .auto
            case 1: id = .autoSequence(try reader.uint64())
            case 2:
                let explicit = try StreamID.decode(&reader)
                guard explicit > .zero else { throw .invalid("stream id 0-0") }
                id = .explicit(explicit)
            case let kind: throw .invalid("unknown stream id kind \(kind)")
            }
            let fields = try list(&reader) { (reader) throws(BinaryReader.Failure) in try value(&reader) }
            guard fields.count % 2 == 0 else { throw .invalid("an odd number of stream fields") }
            let makeStream = try flag(&reader)
            return .add(key: key, id: id, fields: fields, makeStream: makeStream, trim: try trim(&reader))
        case .delete:
            let key = try key(&reader)
            return .delete(key: key, ids: try list(&reader) { (reader) throws(BinaryReader.Failure) in
                try StreamID.decode(&reader)
            })
        case .trim:
            let key = try key(&reader)
            guard let trim = try trim(&reader) else { throw .invalid("XTRIM without a threshold") }
            return .trim(key: key, trim)
        case .setID:
            let key = try key(&reader)
            let id = try StreamID.decode(&reader)
            let hasAdded = try flag(&reader)
            let added = try reader.uint64()
            let hasDeleted = try flag(&reader)
            let deleted = try StreamID.decode(&reader)
            guard hasAdded || added == 0, hasDeleted || deleted == .zero else { throw .invalid("an unused XSETID field") }
            return .setID(key: key, id: id, entriesAdded: hasAdded ? added : nil, maxDeletedID: hasDeleted ? deleted : nil)
        }
    }

    private static func trim(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> StreamTrim? {
        let threshold: StreamTrim.Threshold
        switch try reader.uint8() {
        case 0: return nil
        case 1: threshold = .maxLength(try reader.uint64())
        case 2: threshold = .minID(try StreamID.decode(&reader))
        case let kind: throw .invalid("unknown stream trim kind \(kind)")
        }
        let approximate = try flag(&reader)
        let limited = try flag(&reader)
        let limit = try reader.uint64()
        guard limited || limit == 0, !limited || approximate else { throw .invalid("a stream trim LIMIT without ~") }
        return StreamTrim(threshold, approximate: approximate, limit: limited ? limit : nil)
    }
}

/// The body of a consumer-group command (tag ``CommandCodec/Tag/streamGroups``).
extension CommandCodec {
    enum StreamGroupTag: UInt8 {
        case create = 1, destroy, createConsumer, deleteConsumer, setID, read, acknowledge, claim, autoClaim
    }

    static func encode(_ command: StreamGroupCommand, into output: inout [UInt8]) {
        func start(_ start: StreamGroupStart) {
            switch start {
            case .latest: output.append(0)
            case .id(let id):
                output.append(1)
                id.encode(into: &output)
            }
        }
        func entriesRead(_ value: UInt64?) {
            output.append(value == nil ? 0 : 1)
            output.appendBigEndian(value ?? 0)
        }
        switch command {
        case .create(let key, let group, let from, let makeStream, let read):
            output.append(StreamGroupTag.create.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
            start(from)
            output.append(makeStream ? 1 : 0)
            entriesRead(read)
        case .destroy(let key, let group):
            output.append(StreamGroupTag.destroy.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
        case .createConsumer(let key, let group, let consumer), .deleteConsumer(let key, let group, let consumer):
            if case .createConsumer = command { output.append(StreamGroupTag.createConsumer.rawValue) } else {
                output.append(StreamGroupTag.deleteConsumer.rawValue)
            }
            output.appendBlob(key)
            output.appendBlob(group)
            output.appendBlob(consumer)
        case .setID(let key, let group, let from, let read):
            output.append(StreamGroupTag.setID.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
            start(from)
            entriesRead(read)
        case .read(let group, let consumer, let keys, let ids, let count, let noAck):
            output.append(StreamGroupTag.read.rawValue)
            output.appendBlob(group)
            output.appendBlob(consumer)
            output.appendBigEndian(UInt32(keys.count))
            for (key, id) in zip(keys, ids) {
                output.appendBlob(key)
                switch id {
                case .new: output.append(0)
                case .history(let after):
                    output.append(1)
                    after.encode(into: &output)
                }
            }
            output.appendBigEndian(UInt64(count))
            output.append(noAck ? 1 : 0)
        case .acknowledge(let key, let group, let ids):
            output.append(StreamGroupTag.acknowledge.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
            output.appendBigEndian(UInt32(ids.count))
            for id in ids { id.encode(into: &output) }
        case .claim(let key, let group, let consumer, let minIdle, let ids, let options):
            output.append(StreamGroupTag.claim.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
            output.appendBlob(consumer)
            output.appendBigEndian(minIdle)
            output.appendBigEndian(UInt32(ids.count))
            for id in ids { id.encode(into: &output) }
            switch options.delivery {
            case .now:
                output.append(0)
                output.appendBigEndian(UInt64(0))
            case .idle(let idle):
                output.append(1)
                output.appendBigEndian(UInt64(bitPattern: idle))
            case .time(let time):
                output.append(2)
                output.appendBigEndian(UInt64(bitPattern: time))
            }
            entriesRead(options.retryCount)
            output.append((options.force ? 1 : 0) | (options.justID ? 2 : 0))
            output.append(options.lastID == nil ? 0 : 1)
            (options.lastID ?? .zero).encode(into: &output)
        case .autoClaim(let key, let group, let consumer, let minIdle, let start, let count, let justID):
            output.append(StreamGroupTag.autoClaim.rawValue)
            output.appendBlob(key)
            output.appendBlob(group)
            output.appendBlob(consumer)
            output.appendBigEndian(minIdle)
            start.encode(into: &output)
            output.appendBigEndian(UInt64(count))
            output.append(justID ? 1 : 0)
        }
    }

    static func decodeStreamGroup(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> StreamGroupCommand {
        let rawTag = try reader.uint8()
        guard let tag = StreamGroupTag(rawValue: rawTag) else { throw .invalid("unknown stream group command tag \(rawTag)") }
        func start() throws(BinaryReader.Failure) -> StreamGroupStart {
            switch try reader.uint8() {
            case 0: return .latest
            case 1: return .id(try StreamID.decode(&reader))
            case let kind: throw .invalid("unknown group start \(kind)")
            }
        }
        func entriesRead() throws(BinaryReader.Failure) -> UInt64? {
            let present = try flag(&reader)
            let value = try reader.uint64()
            guard present || value == 0 else { throw .invalid("an unused entries-read") }
            return present ? value : nil
        }
        switch tag {
        case .create:
            let key = try key(&reader), group = try value(&reader)
            let from = try start()
            let makeStream = try flag(&reader)
            return .create(key: key, group: group, start: from, makeStream: makeStream, entriesRead: try entriesRead())
        case .destroy:
            return .destroy(key: try key(&reader), group: try value(&reader))
        case .createConsumer, .deleteConsumer:
            let key = try key(&reader), group = try value(&reader), consumer = try value(&reader)
            return tag == .createConsumer ? .createConsumer(key: key, group: group, consumer: consumer)
                                          : .deleteConsumer(key: key, group: group, consumer: consumer)
        case .setID:
            let key = try key(&reader), group = try value(&reader)
            let from = try start()
            return .setID(key: key, group: group, start: from, entriesRead: try entriesRead())
        case .read:
            let group = try value(&reader), consumer = try value(&reader)
            let pairs = try list(&reader) { (reader) throws(BinaryReader.Failure) -> ([UInt8], StreamGroupReadID) in
                let key = try key(&reader)
                switch try reader.uint8() {
                case 0: return (key, .new)
                case 1: return (key, .history(try StreamID.decode(&reader)))
                case let kind: throw .invalid("unknown group read id \(kind)")
                }
            }
            let count = try reader.uint64()
            guard count <= UInt64(Int.max) else { throw .invalid("XREADGROUP count \(count)") }
            return .read(group: group, consumer: consumer, keys: pairs.map(\.0), ids: pairs.map(\.1), count: Int(count),
                         noAck: try flag(&reader))
        case .acknowledge:
            let key = try key(&reader), group = try value(&reader)
            return .acknowledge(key: key, group: group, ids: try list(&reader) { (reader) throws(BinaryReader.Failure) in
                try StreamID.decode(&reader)
            })
        case .claim:
            let key = try key(&reader), group = try value(&reader), consumer = try value(&reader)
            let minIdle = try reader.uint64()
            // XCLAIM … JUSTID with no id at all is valid (it claims nothing).
            let ids = try list(&reader, allowingEmpty: true) { (reader) throws(BinaryReader.Failure) in
                try StreamID.decode(&reader)
            }
            var options = StreamClaimOptions()
            let kind = try reader.uint8()
            let amount = Int64(bitPattern: try reader.uint64())
            switch kind {
            case 0 where amount == 0: options.delivery = .now
            case 1: options.delivery = .idle(amount)
            case 2: options.delivery = .time(amount)
            default: throw .invalid("unknown XCLAIM delivery \(kind)")
            }
            options.retryCount = try entriesRead()
            let flags = try reader.uint8()
            guard flags <= 3 else { throw .invalid("XCLAIM flags \(flags)") }
            options.force = flags & 1 != 0
            options.justID = flags & 2 != 0
            let hasLast = try flag(&reader)
            let last = try StreamID.decode(&reader)
            guard hasLast || last == .zero else { throw .invalid("an unused LASTID") }
            options.lastID = hasLast ? last : nil
            return .claim(key: key, group: group, consumer: consumer, minIdle: minIdle, ids: ids, options: options)
        case .autoClaim:
            let key = try key(&reader), group = try value(&reader), consumer = try value(&reader)
            let minIdle = try reader.uint64()
            let start = try StreamID.decode(&reader)
            let count = try reader.uint64()
            guard count >= 1, count <= UInt64(Int.max / 10) else { throw .invalid("XAUTOCLAIM count \(count)") }
            return .autoClaim(key: key, group: group, consumer: consumer, minIdle: minIdle, start: start, count: Int(count),
                              justID: try flag(&reader))
        }
    }
}
