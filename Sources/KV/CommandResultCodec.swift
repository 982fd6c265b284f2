import DurableIO
import RESP

/// Encodes command answers for the trip from the leader back to the follower that forwarded a write.
///
/// ```
/// version u8 = 1 ‖ count u32 ‖ result × count
/// result: 0 ok | 1 null | 2 ‖ i64 integer | 3 ‖ blob bulk | 4 ‖ count u32 ‖ result × count array
///         | 5 ‖ u8 error code (CommandError order)
/// ```
public enum CommandResultCodec {
    static let version: UInt8 = 1
    /// The deepest nesting accepted: an EXEC's array of replies holding XREAD's (key → entries → entry →
    /// fields) is seven levels.
    static let maxDepth = 8
    /// The most items one answer array holds (LPOP and SPOP with a count answer that many elements; the
    /// forwarding message's size bounds it too).
    static let maxResultItems = 1 << 24
    /// An error's code is its place in ``CommandError``'s declaration (new errors go last).
    static let errors = CommandError.allCases

    public static func encode(_ results: [CommandResult]) -> [UInt8] {
        var output: [UInt8] = [version]
        output.appendBigEndian(UInt32(results.count))
        for result in results { encode(result, into: &output) }
        return output
    }

    static func encode(_ result: CommandResult, into output: inout [UInt8]) {
        switch result {
        case .ok: output.append(0)
        case .null: output.append(1)
        case .integer(let value):
            output.append(2)
            output.appendBigEndian(UInt64(bitPattern: value))
        case .bulk(let bytes):
            output.append(3)
            output.appendBlob(bytes)
        case .array(let items):
            output.append(4)
            output.appendBigEndian(UInt32(items.count))
            for item in items { encode(item, into: &output) }
        case .error(let error):
            output.append(5)
            output.append(UInt8(errors.firstIndex(of: error)!))
        case .reply(let value):
            output.append(6)
            encode(value, into: &output)
        }
    }

    static func encode(_ value: RESPValue, into output: inout [UInt8]) {
        switch value {
        case .simpleString(let text):
            output.append(0)
            output.appendBlob(Array(text.utf8))
        case .error(let text):
            output.append(1)
            output.appendBlob(Array(text.utf8))
        case .integer(let number):
            output.append(2)
            output.appendBigEndian(UInt64(bitPattern: number))
        case .bulkString(let bytes):
            output.append(3)
            output.appendBlob(bytes)
        case .null: output.append(4)
        case .nullArray: output.append(5)
        case .array(let items):
            output.append(6)
            output.appendBigEndian(UInt32(items.count))
            for item in items { encode(item, into: &output) }
        case .set(let items):
            output.append(9)
            output.appendBigEndian(UInt32(items.count))
            for item in items { encode(item, into: &output) }
        case .push(let items), .sequence(let items):
            if case .push = value { output.append(11) } else { output.append(12) }
            output.appendBigEndian(UInt32(items.count))
            for item in items { encode(item, into: &output) }
        case .map(let pairs), .pairs(let pairs), .pairArrays(let pairs):
            switch value {
            case .map: output.append(7)
            case .pairs: output.append(10)
            default: output.append(13)
            }
            output.appendBigEndian(UInt32(pairs.count))
            for pair in pairs {
                encode(pair.key, into: &output)
                encode(pair.value, into: &output)
            }
        case .double(let number):
            output.append(8)
            output.appendBigEndian(number.bitPattern)
        case .boolean(let value):
            output.append(14)
            output.append(value ? 1 : 0)
        }
    }

    static func decodeReply(_ reader: inout BinaryReader, depth: Int) throws(BinaryReader.Failure) -> RESPValue {
        guard depth <= maxDepth else { throw .invalid("reply nested too deeply") }
        func count() throws(BinaryReader.Failure) -> Int {
            let count = Int(try reader.uint32())
            guard count <= maxResultItems else { throw .invalid("\(count) reply items") }
            return count
        }
        func text() throws(BinaryReader.Failure) -> String {
            let bytes = try reader.blob(limit: CommandEntry.Limits.maxValueBytes)
            guard let text = String(validating: bytes, as: UTF8.self), !text.contains("\r"), !text.contains("\n") else {
                throw .invalid("reply line is not one line of UTF-8")
            }
            return text
        }
        func pairs() throws(BinaryReader.Failure) -> [RESPValue.Pair] {
            var pairs: [RESPValue.Pair] = []
            for _ in 0..<(try count()) {
                let key = try decodeReply(&reader, depth: depth + 1)
                pairs.append(.init(key, try decodeReply(&reader, depth: depth + 1)))
            }
            return pairs
        }
        let tagByte = try reader.uint8()
        switch tagByte {
        case 0: return .simpleString(try text())
        case 1: return .error(try text())
        case 2: return .integer(Int64(bitPattern: try reader.uint64()))
        case 3: return .bulkString(try reader.blob(limit: CommandEntry.Limits.maxValueBytes))
        case 4: return .null
        case 5: return .nullArray
        case 6:
            var items: [RESPValue] = []
            for _ in 0..<(try count()) { items.append(try decodeReply(&reader, depth: depth + 1)) }
            return .array(items)
        case 9:
            var items: [RESPValue] = []
            for _ in 0..<(try count()) { items.append(try decodeReply(&reader, depth: depth + 1)) }
            return .set(items)
        case 7: return .map(try pairs())
        case 10: return .pairs(try pairs())
        case 13: return .pairArrays(try pairs())
        case 11, 12:
            var items: [RESPValue] = []
            for _ in 0..<(try count()) { items.append(try decodeReply(&reader, depth: depth + 1)) }
            return tagByte == 11 ? .push(items) : .sequence(items)
        case 8: return .double(Double(bitPattern: try reader.uint64()))
        case 14:
            let flag = try reader.uint8()
            guard flag <= 1 else { throw .invalid("boolean reply \(flag)") }
            return .boolean(flag == 1)
        case let tag: throw .invalid("unknown reply tag \(tag)")
        }
    }

    /// Decodes what ``encode(_:)`` wrote.
    ///
    /// - Throws: ``KVError/malformedEntry(_:)`` for any malformed input.
    public static func decode(_ bytes: [UInt8]) throws(KVError) -> [CommandResult] {
        var reader = BinaryReader(bytes[...])
        do throws(BinaryReader.Failure) {
            guard try reader.uint8() == version else { throw .invalid("unknown result format version") }
            let count = Int(try reader.uint32())
            guard count <= CommandEntry.Limits.maxCommandsPerBatch else { throw .invalid("\(count) results") }
            var results: [CommandResult] = []
            for _ in 0..<count { results.append(try decodeOne(&reader, depth: 0)) }
            try reader.expectEnd()
            return results
        } catch {
            throw .malformedEntry("command results: \(error)")
        }
    }

    static func decodeOne(_ reader: inout BinaryReader, depth: Int) throws(BinaryReader.Failure) -> CommandResult {
        switch try reader.uint8() {
        case 0: return .ok
        case 1: return .null
        case 2: return .integer(Int64(bitPattern: try reader.uint64()))
        case 3: return .bulk(try reader.blob(limit: CommandEntry.Limits.maxValueBytes))
        case 4:
            guard depth < maxDepth else { throw .invalid("results nested too deeply") }
            let count = Int(try reader.uint32())
            guard count <= maxResultItems else { throw .invalid("\(count) array items") }
            var items: [CommandResult] = []
            for _ in 0..<count { items.append(try decodeOne(&reader, depth: depth + 1)) }
            return .array(items)
        case 5:
            let code = Int(try reader.uint8())
            guard code < errors.count else { throw .invalid("unknown error code \(code)") }
            return .error(errors[code])
        case 6: return .reply(try decodeReply(&reader, depth: depth))
        case let tag:
            throw .invalid("unknown result tag \(tag)")
        }
    }
}
