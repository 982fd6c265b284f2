import DurableIO

/// Reads big-endian integers and byte runs from a buffer, checking every length (DurableIO's
/// ``BigEndianReader``, with the KV codecs' failure type).
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

    private var reader: BigEndianReader

    init(_ bytes: ArraySlice<UInt8>) {
        reader = BigEndianReader(bytes)
    }

    var remaining: Int { reader.remaining }

    mutating func uint8() throws(Failure) -> UInt8 { try read() }
    mutating func uint32() throws(Failure) -> UInt32 { try read() }
    mutating func uint64() throws(Failure) -> UInt64 { try read() }

    mutating func bytes(count: Int) throws(Failure) -> [UInt8] {
        do { return Array(try reader.readBytes(count)) } catch { throw .truncated }
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

    private mutating func read<Value: FixedWidthInteger & UnsignedInteger>() throws(Failure) -> Value {
        do { return try reader.read() } catch { throw .truncated }
    }
}
