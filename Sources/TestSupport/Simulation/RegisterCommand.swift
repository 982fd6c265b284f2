/// The payload of a simulated client put, and the register state machine's snapshot encoding.
public struct RegisterCommand: Sendable, Hashable {
    /// Encoded size: operation id (8), key (1), value (8).
    public static let encodedBytes = 17

    /// The client operation that proposed the put.
    public var operationID: UInt64
    /// The register written.
    public var key: UInt8
    /// The value written.
    public var value: UInt64

    public init(operationID: UInt64, key: UInt8, value: UInt64) {
        self.operationID = operationID
        self.key = key
        self.value = value
    }

    /// Big-endian operation id, key byte, big-endian value.
    public var encoded: [UInt8] {
        var bytes = RegisterCommand.bigEndian(operationID)
        bytes.append(key)
        bytes += RegisterCommand.bigEndian(value)
        return bytes
    }

    /// Decodes a payload; `nil` for entries that are not register commands (a leader's empty entry).
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedBytes else { return nil }
        operationID = Self.readBigEndian(bytes[0..<8])
        key = bytes[8]
        value = Self.readBigEndian(bytes[9..<17])
    }

    /// Serializes a register map in key order (the simulated state machine's snapshot).
    public static func encodeState(_ state: [UInt8: UInt64]) -> [UInt8] {
        var bytes: [UInt8] = []
        for key in state.keys.sorted() {
            bytes.append(key)
            bytes += bigEndian(state[key]!)
        }
        return bytes
    }

    /// Decodes what ``encodeState(_:)`` wrote.
    public static func decodeState(_ bytes: [UInt8]) -> [UInt8: UInt64] {
        precondition(bytes.count % 9 == 0, "A register snapshot is a sequence of 9-byte records.")
        var state: [UInt8: UInt64] = [:]
        var offset = 0
        while offset < bytes.count {
            state[bytes[offset]] = readBigEndian(bytes[(offset + 1)..<(offset + 9)])
            offset += 9
        }
        return state
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }

    static func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}
