/// Parses Redis client requests incrementally: RESP arrays of bulk strings, and inline commands.
///
/// A pure value with no I/O: feed it the bytes received so far and it answers with a complete request and
/// how many bytes it used, "need more bytes", or a protocol error (after which the connection must be closed,
/// as Redis does). Every length is checked against ``Limits`` before anything is allocated.
public struct RESPRequestParser: Sendable {
    /// Named limits; the defaults are Redis's.
    public struct Limits: Sendable, Hashable {
        /// The most arguments one request may have.
        public var maxArguments = 1024 * 1024
        /// The largest bulk argument in bytes (the node's maximum value size plus slack for keys).
        public var maxBulkBytes = 512 * 1024 * 1024
        /// The longest inline command line.
        public var maxInlineBytes = 64 * 1024
        public init() {}
    }

    /// The outcome of one parse attempt.
    public enum Result: Hashable, Sendable {
        /// A full request: its arguments and the number of bytes it took.
        case request(arguments: [[UInt8]], consumed: Int)
        /// The buffer holds only part of a request.
        case needMoreBytes
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses the first request in `buffer`.
    ///
    /// - Throws: ``RESPProtocolError`` for malformed input or a limit exceeded.
    public func parse(_ buffer: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Result {
        guard let first = buffer.first else { return .needMoreBytes }
        if first == UInt8(ascii: "*") { return try parseArray(buffer) }
        return try parseInline(buffer)
    }

    /// Parses the first request in `bytes`.
    public func parse(_ bytes: [UInt8]) throws(RESPProtocolError) -> Result {
        var outcome: Swift.Result<Result, RESPProtocolError> = .success(.needMoreBytes)
        bytes.withUnsafeBytes { buffer in
            do throws(RESPProtocolError) { outcome = .success(try parse(buffer)) } catch { outcome = .failure(error) }
        }
        return try outcome.get()
    }

    private func parseArray(_ buffer: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Result {
        guard let (count, afterHeader) = try readLineInteger(buffer, from: 1, what: "multibulk length") else {
            return .needMoreBytes
        }
        guard count <= limits.maxArguments else { throw .invalidMultibulkLength }
        if count <= 0 { return .request(arguments: [], consumed: afterHeader) }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(min(count, 64))
        var position = afterHeader
        for _ in 0..<count {
            guard position < buffer.count else { return .needMoreBytes }
            guard buffer[position] == UInt8(ascii: "$") else {
                throw .expectedBulk(found: buffer[position])
            }
            guard let (length, afterLength) = try readLineInteger(buffer, from: position + 1, what: "bulk length")
            else { return .needMoreBytes }
            guard length >= 0, length <= limits.maxBulkBytes else { throw .invalidBulkLength }
            guard buffer.count - afterLength >= length + 2 else { return .needMoreBytes }
            guard buffer[afterLength + length] == 0x0D, buffer[afterLength + length + 1] == 0x0A else {
                throw .missingCRLF
            }
            arguments.append(Array(UnsafeRawBufferPointer(rebasing: buffer[afterLength..<(afterLength + length)])))
            position = afterLength + length + 2
        }
        return .request(arguments: arguments, consumed: position)
    }

    /// Reads a decimal integer terminated by CRLF starting at `start`; `nil` when the line is incomplete.
    private func readLineInteger(_ buffer: UnsafeRawBufferPointer, from start: Int, what: String)
        throws(RESPProtocolError) -> (Int, Int)?
    {
        let maxDigits = 20
        var position = start
        var negative = false
        var value = 0
        var digits = 0
        while position < buffer.count {
            let byte = buffer[position]
            if byte == 0x0D {
                guard position + 1 < buffer.count else { return nil }
                guard buffer[position + 1] == 0x0A, digits > 0 else { throw .invalidInteger(what) }
                return (negative ? -value : value, position + 2)
            }
            if byte == UInt8(ascii: "-") && position == start {
                negative = true
            } else {
                guard byte >= 0x30 && byte <= 0x39, digits < maxDigits else { throw .invalidInteger(what) }
                let (product, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = product.addingReportingOverflow(Int(byte - 0x30))
                guard !overflowA, !overflowB else { throw .invalidInteger(what) }
                value = sum
                digits += 1
            }
            position += 1
        }
        guard position - start <= maxDigits + 1 else { throw .invalidInteger(what) }
        return nil
    }

    private func parseInline(_ buffer: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Result {
        guard let newline = buffer.firstIndex(of: 0x0A) else {
            guard buffer.count <= limits.maxInlineBytes else { throw .inlineTooLong }
            return .needMoreBytes
        }
        guard newline <= limits.maxInlineBytes else { throw .inlineTooLong }
        var end = newline
        if end > 0 && buffer[end - 1] == 0x0D { end -= 1 }
        let line = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
        return .request(arguments: try InlineCommand.split(line), consumed: newline + 1)
    }
}
