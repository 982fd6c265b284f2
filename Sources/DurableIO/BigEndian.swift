/// The one big-endian integer encoding every binary format of the project uses (DESIGN §3: "all integers
/// are big-endian").
///
/// Each format keeps its own reader type, because each reports truncation in its own error (a Raft log record,
/// an FSM entry, a snapshot stream); the byte order and the bounds checks live here.
extension Array where Element == UInt8 {
    /// Appends `value` most significant byte first. Inlinable so that every module's codec gets a copy
    /// specialized for its integer type.
    @inlinable
    public mutating func appendBigEndian<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        var shift = Value.bitWidth - 8
        while shift >= 0 {
            append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}

/// Reads big-endian integers and byte runs from bytes, never past their end.
public struct BigEndianReader: Sendable {
    /// A read needed more bytes than were left.
    public struct Truncated: Error, Hashable, Sendable {
        public let needed: Int
        public let available: Int

        @inlinable
        public init(needed: Int, available: Int) {
            self.needed = needed
            self.available = available
        }
    }

    public let bytes: ArraySlice<UInt8>
    /// The index in `bytes` of the next byte to read.
    public var position: Int { next }
    @usableFromInline var next: Int

    /// A reader over `bytes`, from its first index.
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        next = bytes.startIndex
    }

    /// A reader over `bytes[start..<end]` (`end` defaults to the array's end).
    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        let end = end ?? bytes.count
        precondition(start >= 0 && start <= end && end <= bytes.count, "reader bounds are outside the bytes")
        self.init(bytes[start..<end])
    }

    /// Bytes not read yet.
    @inlinable
    public var remaining: Int { bytes.endIndex - next }

    /// Reads an unsigned integer of `Value`'s width.
    @inlinable
    public mutating func read<Value: FixedWidthInteger & UnsignedInteger>(_: Value.Type = Value.self)
        throws(Truncated) -> Value
    {
        let width = Value.bitWidth / 8
        try require(width)
        var value: Value = 0
        for index in next..<(next + width) { value = value << 8 | Value(bytes[index]) }
        next += width
        return value
    }

    /// Reads `count` bytes.
    @inlinable
    public mutating func readBytes(_ count: Int) throws(Truncated) -> ArraySlice<UInt8> {
        try require(count)
        defer { next += count }
        return bytes[next..<(next + count)]
    }

    /// Throws unless `count` more bytes can be read.
    @inlinable
    public func require(_ count: Int) throws(Truncated) {
        guard count >= 0, remaining >= count else { throw Truncated(needed: count, available: remaining) }
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    /// The integer whose big-endian encoding is exactly `bytes`; `nil` when the count is not its width.
    @inlinable
    public init?(bigEndianBytes bytes: some Collection<UInt8>) {
        guard bytes.count == Self.bitWidth / 8 else { return nil }
        self = bytes.reduce(0) { $0 << 8 | Self($1) }
    }
}
