/// Malformed client input. The text after `ERR` matches what Redis answers before closing the connection.
public enum RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidMultibulkLength
    case invalidBulkLength
    case invalidInteger(String)
    case expectedBulk(found: UInt8)
    case missingCRLF
    case inlineTooLong
    case unbalancedQuotes

    public var description: String {
        switch self {
        case .invalidMultibulkLength: return "Protocol error: invalid multibulk length"
        case .invalidBulkLength: return "Protocol error: invalid bulk length"
        case .invalidInteger(let what): return "Protocol error: invalid \(what)"
        case .expectedBulk(let found):
            let shown = found >= 0x20 && found < 0x7F ? String(UnicodeScalar(found)) : "0x" + String(found, radix: 16)
            return "Protocol error: expected '$', got '\(shown)'"
        case .missingCRLF: return "Protocol error: bulk string is not terminated by CRLF"
        case .inlineTooLong: return "Protocol error: too big inline request"
        case .unbalancedQuotes: return "Protocol error: unbalanced quotes in request"
        }
    }
}
