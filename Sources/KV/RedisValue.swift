import DurableIO

/// A Redis value as the state machine stores it in a version body: a type byte, then the payload.
///
/// ```
/// 0x00 string   raw bytes
/// 0x01 hash     count u32 ‖ (field_len u32 ‖ field ‖ value_len u32 ‖ value) × count, fields ascending
/// 0x02 list     generation u64 ‖ head u64 ‖ count u64 (the elements are element rows, ``ListHeader``)
/// 0x03 set      generation u64 ‖ index_key_id u32 ‖ count u64 (the members are element rows, ``SetHeader``)
/// ```
public enum RedisValue: Hashable, Sendable {
    case string([UInt8])
    case hash([[UInt8]: [UInt8]])
    /// A list's metadata; its elements live in their own rows.
    case list(ListHeader)
    /// A set's metadata; its members live in their own rows.
    case set(SetHeader)

    /// The name `TYPE` answers.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .hash: return "hash"
        case .list: return "list"
        case .set: return "set"
        }
    }

    /// The generation of a collection's element rows; `nil` for a value kept whole in its row.
    public var generation: UInt64? {
        switch self {
        case .list(let header): return header.generation
        case .set(let header): return header.generation
        case .string, .hash: return nil
        }
    }

    /// The generation named by an encoded body, read without decoding the rest; `nil` when the body is not
    /// a collection's metadata.
    static func generation(ofBody body: [UInt8]) -> UInt64? {
        // Every collection's metadata starts with its generation.
        guard body.count >= 9, body[0] == 0x02 || body[0] == 0x03 else { return nil }
        return UInt64(bigEndianBytes: Array(body[1..<9]))
    }

    /// Encodes the value into a version body.
    public func encoded() -> [UInt8] {
        switch self {
        case .string(let bytes):
            return [0x00] + bytes
        case .hash(let fields):
            var output: [UInt8] = [0x01]
            output.appendBigEndian(UInt32(fields.count))
            for field in fields.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                output.appendBigEndian(UInt32(field.count))
                output.append(contentsOf: field)
                let value = fields[field]!
                output.appendBigEndian(UInt32(value.count))
                output.append(contentsOf: value)
            }
            return output
        case .list(let header):
            var output: [UInt8] = [0x02]
            output.reserveCapacity(25)
            output.appendBigEndian(header.generation)
            output.appendBigEndian(header.head)
            output.appendBigEndian(header.count)
            return output
        case .set(let header):
            var output: [UInt8] = [0x03]
            output.reserveCapacity(21)
            output.appendBigEndian(header.generation)
            output.appendBigEndian(header.indexKeyID)
            output.appendBigEndian(header.count)
            return output
        }
    }

    /// Decodes a version body.
    ///
    /// - Throws: ``KVError/corruptValue(_:)`` for an unknown type byte or a malformed hash.
    public init(decoding body: [UInt8]) throws(KVError) {
        guard let type = body.first else { throw KVError.corruptValue("empty body") }
        switch type {
        case 0x00:
            self = .string(Array(body.dropFirst()))
        case 0x01:
            var reader = BinaryReader(body[1...])
            do throws(BinaryReader.Failure) {
                let count = try reader.uint32()
                var fields: [[UInt8]: [UInt8]] = [:]
                for _ in 0..<count {
                    let field = try reader.bytes(count: Int(try reader.uint32()))
                    fields[field] = try reader.bytes(count: Int(try reader.uint32()))
                }
                try reader.expectEnd()
                guard fields.count == Int(count) else { throw BinaryReader.Failure.invalid("duplicate hash field") }
                self = .hash(fields)
            } catch {
                throw KVError.corruptValue("hash: \(error)")
            }
        case 0x02:
            var reader = BinaryReader(body[1...])
            do throws(BinaryReader.Failure) {
                let header = ListHeader(generation: try reader.uint64(), head: try reader.uint64(),
                                        count: try reader.uint64())
                try reader.expectEnd()
                guard header.count > 0, header.head <= UInt64.max - header.count else {
                    throw BinaryReader.Failure.invalid("list header out of range")
                }
                self = .list(header)
            } catch {
                throw KVError.corruptValue("list: \(error)")
            }
        case 0x03:
            var reader = BinaryReader(body[1...])
            do throws(BinaryReader.Failure) {
                let header = SetHeader(generation: try reader.uint64(), indexKeyID: try reader.uint32(),
                                       count: try reader.uint64())
                try reader.expectEnd()
                guard header.count > 0 else { throw BinaryReader.Failure.invalid("empty set") }
                self = .set(header)
            } catch {
                throw KVError.corruptValue("set: \(error)")
            }
        default:
            throw KVError.corruptValue("unknown type byte \(type)")
        }
    }
}

extension [UInt8] {
    mutating func appendBlob(_ bytes: [UInt8]) {
        appendBigEndian(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}
