import DurableIO

/// The body of a stream command (tag ``CommandCodec/Tag/streams``): a sub-tag, then its fields.
extension CommandCodec {
    enum StreamTag: UInt8 {
        case add = 1, delete, trim
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
