/// Reads big-endian integers and byte runs from a buffer, checking every length.
struct BinaryReader {
    enum Failure: Error, Hashable, CustomStringConvertible {
        case truncated
        case trailingBytes(Int)
        case invalid(String)

        var description: String {
            switch self {
            case .truncated: return "input ends early"
            case .trailingBytes(let count): return "\(count) unexpected trailing bytes"
            case .invalid(let reason): return reason
            }
        }
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    mutating func uint8() throws(Failure) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint32() throws(Failure) -> UInt32 { UInt32(try integer(width: 4)) }

    mutating func uint64() throws(Failure) -> UInt64 { try integer(width: 8) }

    mutating func bytes(count: Int) throws(Failure) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A u32 length followed by that many bytes, refused above `limit`.
    mutating func blob(limit: Int) throws(Failure) -> [UInt8] {
        let count = Int(try uint32())
        guard count <= limit else { throw .invalid("field of \(count) bytes exceeds the limit of \(limit)") }
        return try bytes(count: count)
    }

    func expectEnd() throws(Failure) {
        guard remaining == 0 else { throw .trailingBytes(remaining) }
    }

    private mutating func integer(width: Int) throws(Failure) -> UInt64 {
        guard remaining >= width else { throw .truncated }
        var value: UInt64 = 0
        for offset in 0..<width { value = value << 8 | UInt64(bytes[position + offset]) }
        position += width
        return value
    }
}
