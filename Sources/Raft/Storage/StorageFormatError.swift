/// Why bytes read back from a storage file do not decode.
///
/// Thrown by the record, segment-header, hard-state, snapshot and configuration decoders. The durable log
/// wraps it in a ``RaftLogError`` that names the file and offset; the cases here say what was wrong with
/// the bytes themselves.
public enum StorageFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended `needed - available` bytes too early.
    case truncated(needed: Int, available: Int)
    /// The magic number is not the one of this file kind; the file is not what its name says.
    case badMagic(UInt32)
    /// The format version is not one this build reads; a newer build wrote it.
    case unsupportedVersion(UInt16)
    /// The stored CRC-32C does not match the bytes it covers.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// Bytes were left after a complete encoding.
    case trailingBytes(count: Int)
    /// A field holds a value the format does not allow; the string names the field and the value.
    case invalidField(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            return "truncated: needed \(needed) more bytes, \(available) available"
        case .badMagic(let magic):
            return "bad magic 0x\(String(magic, radix: 16)); the file is not of the expected kind"
        case .unsupportedVersion(let version):
            return "unsupported format version \(version); upgrade the binary that reads it"
        case .checksumMismatch(let stored, let computed):
            return "CRC-32C mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case .trailingBytes(let count):
            return "\(count) unexpected bytes after the end of the encoding"
        case .invalidField(let what):
            return "invalid field: \(what)"
        }
    }
}
