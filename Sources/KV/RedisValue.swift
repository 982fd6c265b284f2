import DurableIO

/// A Redis value as the state machine stores it in a primary row's body: a type byte, then the payload
/// (docs/formats.md §2a).
///
/// ```
/// 0x00 string   raw bytes
/// 0x01 hash     generation u64 ‖ index_key_id u32 ‖ count u64 (the fields are element rows, ``HashHeader``)
/// 0x02 list     generation u64 ‖ head u64 ‖ count u64 (the elements are element rows, ``ListHeader``)
/// 0x03 set      generation u64 ‖ index_key_id u32 ‖ count u64 (the members are element rows, ``SetHeader``)
/// 0x04 zset     generation u64 ‖ index_key_id u32 ‖ count u64 ‖ root u64 ‖ height u8 ‖ next_node u64
///               (members and the ordered tree are element rows, ``SortedSetHeader``)
/// 0x05 stream   generation u64 ‖ count u64 ‖ last_id ‖ max_deleted_id ‖ entries_added u64 (``StreamHeader``)
/// ```
public enum RedisValue: Hashable, Sendable {
    case string([UInt8])
    /// A hash's metadata; its fields live in their own rows.
    case hash(HashHeader)
    /// A list's metadata; its elements live in their own rows.
    case list(ListHeader)
    /// A set's metadata; its members live in their own rows.
    case set(SetHeader)
    /// A sorted set's metadata; its members and ordered tree live in their own rows.
    case sortedSet(SortedSetHeader)
    /// A stream's metadata; its entries live in their own rows.
    case stream(StreamHeader)

    /// The name `TYPE` answers.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .hash: return "hash"
        case .list: return "list"
        case .set: return "set"
        case .sortedSet: return "zset"
        case .stream: return "stream"
        }
    }

    /// The generation of a collection's element rows; `nil` for a string.
    public var generation: UInt64? {
        switch self {
        case .hash(let header), .set(let header): return header.generation
        case .list(let header): return header.generation
        case .sortedSet(let header): return header.generation
        case .stream(let header): return header.generation
        case .string: return nil
        }
    }

    /// The same value naming its element rows with `generation` (COPY); a string is returned as it is.
    func withGeneration(_ generation: UInt64) -> RedisValue {
        switch self {
        case .string: return self
        case .hash(var header):
            header.generation = generation
            return .hash(header)
        case .set(var header):
            header.generation = generation
            return .set(header)
        case .list(var header):
            header.generation = generation
            return .list(header)
        case .sortedSet(var header):
            header.generation = generation
            return .sortedSet(header)
        case .stream(var header):
            header.generation = generation
            return .stream(header)
        }
    }

    /// The generation named by an encoded body, read without decoding the rest; `nil` when the body is not
    /// a collection's metadata.
    static func generation(ofBody body: [UInt8]) -> UInt64? {
        // Every collection's metadata starts with its generation.
        guard body.count >= 9, (0x01...0x05).contains(body[0]) else { return nil }
        return UInt64(bigEndianBytes: Array(body[1..<9]))
    }

    /// Encodes the value into a version body.
    public func encoded() -> [UInt8] {
        switch self {
        case .string(let bytes):
            return [0x00] + bytes
        case .hash(let header):
            return Self.encode(0x01, header)
        case .list(let header):
            var output: [UInt8] = [0x02]
            output.reserveCapacity(25)
            output.appendBigEndian(header.generation)
            output.appendBigEndian(header.head)
            output.appendBigEndian(header.count)
            return output
        case .set(let header):
            return Self.encode(0x03, header)
        case .sortedSet(let header):
            return header.encoded()
        case .stream(let header):
            return header.encoded()
        }
    }

    private static func encode(_ type: UInt8, _ header: SetHeader) -> [UInt8] {
        var output: [UInt8] = [type]
        output.reserveCapacity(21)
        output.appendBigEndian(header.generation)
        output.appendBigEndian(header.indexKeyID)
        output.appendBigEndian(header.count)
        return output
    }

    /// Decodes a version body.
    ///
    /// - Throws: ``KVError/corruptValue(_:)`` for an unknown type byte or malformed metadata.
    public init(decoding body: [UInt8]) throws(KVError) {
        guard let type = body.first else { throw KVError.corruptValue("empty body") }
        guard type <= 0x05 else { throw KVError.corruptValue("unknown type byte \(type)") }
        var reader = BinaryReader(body[1...])
        do throws(BinaryReader.Failure) {
            switch type {
            case 0x00:
                self = .string(Array(body.dropFirst()))
                return
            case 0x01, 0x03:
                let header = SetHeader(generation: try reader.uint64(), indexKeyID: try reader.uint32(),
                                       count: try reader.uint64())
                guard header.count > 0 else { throw BinaryReader.Failure.invalid("empty collection") }
                self = type == 0x01 ? .hash(header) : .set(header)
            case 0x02:
                let header = ListHeader(generation: try reader.uint64(), head: try reader.uint64(),
                                        count: try reader.uint64())
                guard header.count > 0, header.head <= UInt64.max - header.count else {
                    throw BinaryReader.Failure.invalid("list header out of range")
                }
                self = .list(header)
            case 0x04:
                self = .sortedSet(try SortedSetHeader(decoding: &reader))
            case 0x05:
                self = .stream(try StreamHeader(decoding: &reader))
            default:
                preconditionFailure("type bytes above 0x05 are refused above")
            }
            try reader.expectEnd()
        } catch {
            throw KVError.corruptValue("\(["string", "hash", "list", "set", "zset", "stream"][Int(type)]) metadata: \(error)")
        }
    }
}

extension [UInt8] {
    mutating func appendBlob(_ bytes: [UInt8]) {
        appendBigEndian(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}
