import KV
import RESP

/// A numeric `CONFIG SET` parameter as Redis 7.0 validates one: a strict decimal integer in a closed range.
///
/// Redis reads the value with `string2ll` (no `+`, no spaces, no leading zeros, no `-0`, no unit suffix) and
/// refuses it with `ERR CONFIG SET failed (possibly related to argument '<name>') - <reason>`, naming the
/// parameter in its canonical lower-case spelling whatever spelling the client used.
public struct IntegerConfigParameter: Hashable, Sendable {
    /// The canonical name, e.g. `slowlog-log-slower-than`.
    public let name: String
    public let minimum: Int64
    public let maximum: Int64

    public init(name: String, minimum: Int64, maximum: Int64) {
        precondition(minimum <= maximum, "the range of \(name) must not be empty")
        self.name = name
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Why `CONFIG SET` refused a value.
    public enum Failure: Error, Hashable, Sendable {
        /// Not a strict decimal 64-bit integer.
        case notAnInteger(parameter: String)
        /// An integer outside the parameter's range.
        case outOfRange(parameter: String, minimum: Int64, maximum: Int64)

        /// The error line Redis answers, `ERR` included.
        public var message: String {
            switch self {
            case .notAnInteger(let parameter):
                return "ERR CONFIG SET failed (possibly related to argument '\(parameter)') - argument couldn't be "
                    + "parsed into an integer"
            case .outOfRange(let parameter, let minimum, let maximum):
                return "ERR CONFIG SET failed (possibly related to argument '\(parameter)') - argument must be "
                    + "between \(minimum) and \(maximum) inclusive"
            }
        }

        /// The error reply for the client.
        public var reply: RESPValue { .error(message) }
    }

    /// Whether `value` is in the parameter's range.
    public func contains(_ value: Int64) -> Bool { value >= minimum && value <= maximum }

    /// The value a client gave, checked as Redis checks it.
    ///
    /// - Throws: ``Failure/notAnInteger(parameter:)`` or ``Failure/outOfRange(parameter:minimum:maximum:)``.
    public func parse(_ value: [UInt8]) throws(Failure) -> Int64 {
        guard let parsed = RedisNumber.parseInteger(value) else { throw .notAnInteger(parameter: name) }
        guard contains(parsed) else { throw .outOfRange(parameter: name, minimum: minimum, maximum: maximum) }
        return parsed
    }
}
