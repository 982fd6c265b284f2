import DurableIO

/// The body of a set command (tag ``CommandCodec/Tag/sets``): a sub-tag, then its fields.
extension CommandCodec {
    enum SetTag: UInt8 {
        case add = 1, remove, pop, move, store
    }

    static func encode(_ command: SetCommand, into output: inout [UInt8]) {
        func blobs(_ items: [[UInt8]]) {
            output.appendBigEndian(UInt32(items.count))
            for item in items { output.appendBlob(item) }
        }
        switch command {
        case .add(let key, let members):
            output.append(SetTag.add.rawValue)
            output.appendBlob(key)
            blobs(members)
        case .remove(let key, let members):
            output.append(SetTag.remove.rawValue)
            output.appendBlob(key)
            blobs(members)
        case .pop(let key, let count):
            output.append(SetTag.pop.rawValue)
            output.appendBlob(key)
            output.append(count == nil ? 0 : 1)
            output.appendBigEndian(UInt64(bitPattern: count ?? 0))
        case .move(let source, let destination, let member):
            output.append(SetTag.move.rawValue)
            output.appendBlob(source)
            output.appendBlob(destination)
            output.appendBlob(member)
        case .store(let operation, let destination, let keys):
            output.append(SetTag.store.rawValue)
            output.append(operation.rawValue)
            output.appendBlob(destination)
            blobs(keys)
        }
    }

    static func decodeSet(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> SetCommand {
        let rawTag = try reader.uint8()
        guard let tag = SetTag(rawValue: rawTag) else { throw .invalid("unknown set command tag \(rawTag)") }
        switch tag {
        case .add, .remove:
            let key = try key(&reader)
            let members = try list(&reader) { (reader) throws(BinaryReader.Failure) in try value(&reader) }
            return tag == .add ? .add(key: key, members: members) : .remove(key: key, members: members)
        case .pop:
            let key = try key(&reader)
            let counted = try flag(&reader)
            let count = Int64(bitPattern: try reader.uint64())
            guard count >= 0, counted || count == 0 else { throw .invalid("SPOP count \(count)") }
            return .pop(key: key, count: counted ? count : nil)
        case .move:
            return .move(source: try key(&reader), destination: try key(&reader), member: try value(&reader))
        case .store:
            let rawOperation = try reader.uint8()
            guard let operation = SetOperation(rawValue: rawOperation) else {
                throw .invalid("unknown set operation \(rawOperation)")
            }
            let destination = try key(&reader)
            let keys = try list(&reader) { (reader) throws(BinaryReader.Failure) in try key(&reader) }
            return .store(operation, destination: destination, keys: keys)
        }
    }
}
