import DurableIO

/// The body of a list command (tag ``CommandCodec/Tag/list``): a sub-tag, then its fields (docs/formats.md §5b).
extension CommandCodec {
    enum ListTag: UInt8 {
        case push = 1, pop, set, insert, remove, trim, move, multiPop
    }

    static func encode(_ command: ListCommand, into output: inout [UInt8]) {
        func flag(_ value: Bool) { output.append(value ? 1 : 0) }
        func integer(_ value: Int64) { output.appendBigEndian(UInt64(bitPattern: value)) }
        switch command {
        case .push(let key, let elements, let left, let onlyIfExists):
            output.append(ListTag.push.rawValue)
            output.appendBlob(key)
            flag(left)
            flag(onlyIfExists)
            output.appendBigEndian(UInt32(elements.count))
            for element in elements { output.appendBlob(element) }
        case .pop(let key, let left, let count):
            output.append(ListTag.pop.rawValue)
            output.appendBlob(key)
            flag(left)
            flag(count != nil)
            integer(count ?? 0)
        case .set(let key, let index, let element):
            output.append(ListTag.set.rawValue)
            output.appendBlob(key)
            integer(index)
            output.appendBlob(element)
        case .insert(let key, let before, let pivot, let element):
            output.append(ListTag.insert.rawValue)
            output.appendBlob(key)
            flag(before)
            output.appendBlob(pivot)
            output.appendBlob(element)
        case .remove(let key, let count, let element):
            output.append(ListTag.remove.rawValue)
            output.appendBlob(key)
            integer(count)
            output.appendBlob(element)
        case .trim(let key, let start, let stop):
            output.append(ListTag.trim.rawValue)
            output.appendBlob(key)
            integer(start)
            integer(stop)
        case .move(let source, let destination, let fromLeft, let toLeft):
            output.append(ListTag.move.rawValue)
            output.appendBlob(source)
            output.appendBlob(destination)
            flag(fromLeft)
            flag(toLeft)
        case .multiPop(let keys, let left, let count):
            output.append(ListTag.multiPop.rawValue)
            output.appendBigEndian(UInt32(keys.count))
            for key in keys { output.appendBlob(key) }
            flag(left)
            integer(count)
        }
    }

    static func decodeList(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> ListCommand {
        let rawTag = try reader.uint8()
        guard let tag = ListTag(rawValue: rawTag) else { throw .invalid("unknown list command tag \(rawTag)") }
        func integer(_ reader: inout BinaryReader) throws(BinaryReader.Failure) -> Int64 {
            Int64(bitPattern: try reader.uint64())
        }
        switch tag {
        case .push:
            let key = try key(&reader)
            let left = try flag(&reader), onlyIfExists = try flag(&reader)
            let elements = try list(&reader) { (reader) throws(BinaryReader.Failure) in try value(&reader) }
            return .push(key: key, elements: elements, left: left, onlyIfExists: onlyIfExists)
        case .pop:
            let key = try key(&reader)
            let left = try flag(&reader), counted = try flag(&reader)
            let count = try integer(&reader)
            guard count >= 0, counted || count == 0 else { throw .invalid("LPOP count \(count)") }
            return .pop(key: key, left: left, count: counted ? count : nil)
        case .set:
            return .set(key: try key(&reader), index: try integer(&reader), element: try value(&reader))
        case .insert:
            return .insert(key: try key(&reader), before: try flag(&reader), pivot: try value(&reader),
                           element: try value(&reader))
        case .remove:
            return .remove(key: try key(&reader), count: try integer(&reader), element: try value(&reader))
        case .trim:
            return .trim(key: try key(&reader), start: try integer(&reader), stop: try integer(&reader))
        case .move:
            return .move(source: try key(&reader), destination: try key(&reader), fromLeft: try flag(&reader),
                         toLeft: try flag(&reader))
        case .multiPop:
            let keys = try list(&reader) { (reader) throws(BinaryReader.Failure) in try key(&reader) }
            let left = try flag(&reader)
            let count = try integer(&reader)
            guard count > 0 else { throw .invalid("LMPOP count \(count)") }
            return .multiPop(keys: keys, left: left, count: count)
        }
    }
}
