import DurableIO

/// A Redis value as the state machine stores it in a version body: a type byte, then the payload.
///
/// ```
/// 0x00 string   raw bytes
/// 0x01 hash     count u32 ‖ (field_len u32 ‖ field ‖ value_len u32 ‖ value) × count, fields ascending
/// ```
public enum RedisValue: Hashable, Sendable {
    case string([UInt8])
    case hash([[UInt8]: [UInt8]])

    /// The name `TYPE` answers.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .hash: return "hash"
        }
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
