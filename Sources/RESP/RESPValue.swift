#if canImport(Glibc)
import Glibc
#endif

/// A reply to a Redis client, encodable as RESP2 or RESP3.
public enum RESPValue: Hashable, Sendable {
    case simpleString(String)
    /// An error line, e.g. `ERR syntax error` or `WRONGTYPE …` (no CR or LF inside).
    case error(String)
    case integer(Int64)
    case bulkString([UInt8])
    /// RESP2 `$-1`, RESP3 `_`.
    case null
    /// RESP2 `*-1`, RESP3 `_`.
    case nullArray
    case array([RESPValue])
    /// A set reply (SMEMBERS, SINTER …): `~` under RESP3, an array under RESP2.
    case set([RESPValue])
    /// Key-value pairs: RESP3 `%`, flattened into an array under RESP2.
    case map([Pair])
    /// RESP3 `,`; a bulk string under RESP2 (printed as Redis 7.0 prints scores, `%.17g`).
    case double(Double)
    /// Pairs such as a sorted set's members with their scores: an array of two-element arrays under RESP3,
    /// flattened into one array under RESP2 (ZRANGE … WITHSCORES).
    case pairs([Pair])
    /// Key-value pairs that RESP2 sends as an array of `[key, value]` arrays and RESP3 as a map (XREAD).
    case pairArrays([Pair])
    /// An out-of-band message (pub/sub): RESP3 `>`, an array under RESP2.
    case push([RESPValue])
    /// Several replies written one after another for one request (SUBSCRIBE a b confirms each channel).
    case sequence([RESPValue])
    /// RESP3 `#t` / `#f`; the integer 1 / 0 under RESP2 (a script's booleans after `redis.setresp(3)`).
    case boolean(Bool)

    /// One entry of a map reply.
    public struct Pair: Hashable, Sendable {
        public var key: RESPValue
        public var value: RESPValue
        public init(_ key: RESPValue, _ value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// The protocol version a connection speaks (`HELLO 3` switches to RESP3).
    public enum ProtocolVersion: Int, Hashable, Sendable {
        case resp2 = 2
        case resp3 = 3
    }

    /// `+OK`.
    public static let ok = RESPValue.simpleString("OK")

    /// A bulk string from UTF-8 text.
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// Appends the wire encoding of this value to `output`.
    public func encode(_ version: ProtocolVersion, into output: inout [UInt8]) {
        switch self {
        case .simpleString(let text): Self.line(UInt8(ascii: "+"), Self.sanitized(text), &output)
        case .error(let text): Self.line(UInt8(ascii: "-"), Self.sanitized(text), &output)
        case .integer(let value): Self.line(UInt8(ascii: ":"), String(value), &output)
        case .bulkString(let bytes):
            Self.line(UInt8(ascii: "$"), String(bytes.count), &output)
            output.append(contentsOf: bytes)
            output.append(contentsOf: [0x0D, 0x0A])
        case .null:
            output.append(contentsOf: version == .resp3 ? Array("_\r\n".utf8) : Array("$-1\r\n".utf8))
        case .nullArray:
            output.append(contentsOf: version == .resp3 ? Array("_\r\n".utf8) : Array("*-1\r\n".utf8))
        case .array(let items):
            Self.line(UInt8(ascii: "*"), String(items.count), &output)
            for item in items { item.encode(version, into: &output) }
        case .set(let items):
            Self.line(UInt8(ascii: version == .resp3 ? "~" : "*"), String(items.count), &output)
            for item in items { item.encode(version, into: &output) }
        case .map(let pairs):
            if version == .resp3 {
                Self.line(UInt8(ascii: "%"), String(pairs.count), &output)
            } else {
                Self.line(UInt8(ascii: "*"), String(pairs.count * 2), &output)
            }
            for pair in pairs {
                pair.key.encode(version, into: &output)
                pair.value.encode(version, into: &output)
            }
        case .pairArrays(let pairs):
            if version == .resp3 {
                RESPValue.map(pairs).encode(version, into: &output)
            } else {
                RESPValue.array(pairs.map { .array([$0.key, $0.value]) }).encode(version, into: &output)
            }
        case .push(let items):
            Self.line(UInt8(ascii: version == .resp3 ? ">" : "*"), String(items.count), &output)
            for item in items { item.encode(version, into: &output) }
        case .sequence(let replies):
            for reply in replies { reply.encode(version, into: &output) }
        case .pairs(let pairs):
            if version == .resp3 {
                Self.line(UInt8(ascii: "*"), String(pairs.count), &output)
                for pair in pairs { RESPValue.array([pair.key, pair.value]).encode(version, into: &output) }
            } else {
                Self.line(UInt8(ascii: "*"), String(pairs.count * 2), &output)
                for pair in pairs {
                    pair.key.encode(version, into: &output)
                    pair.value.encode(version, into: &output)
                }
            }
        case .boolean(let value):
            if version == .resp3 { Self.line(UInt8(ascii: "#"), value ? "t" : "f", &output) } else {
                Self.line(UInt8(ascii: ":"), value ? "1" : "0", &output)
            }
        case .double(let value):
            let text = Self.format(value)
            if version == .resp3 { Self.line(UInt8(ascii: ","), text, &output) } else {
                RESPValue.bulk(text).encode(version, into: &output)
            }
        }
    }

    /// The wire encoding of this value.
    public func encoded(_ version: ProtocolVersion) -> [UInt8] {
        var output: [UInt8] = []
        encode(version, into: &output)
        return output
    }

    private static func line(_ prefix: UInt8, _ text: String, _ output: inout [UInt8]) {
        output.append(prefix)
        output.append(contentsOf: text.utf8)
        output.append(contentsOf: [0x0D, 0x0A])
    }

    /// Simple strings and errors may not contain CR or LF; they become spaces.
    private static func sanitized(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
    }

    /// `%.17g`, as Redis 7.0 prints a double reply (1.1 is 1.1000000000000001); `inf`, `-inf`, `nan`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        var buffer = [CChar](repeating: 0, count: 32)
        let written = withVaList([value]) { arguments in vsnprintf(&buffer, buffer.count, "%.17g", arguments) }
        return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
