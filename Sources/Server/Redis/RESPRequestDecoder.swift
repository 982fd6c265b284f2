import NIOCore
import RESP

/// Splits the bytes of a Redis connection into requests (argument lists), pipelining included.
///
/// A protocol error is thrown into the pipeline; the connection answers it and closes, as Redis does.
struct RESPRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = [[UInt8]]

    let parser: RESPRequestParser

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let parser = self.parser
        let result = try buffer.withUnsafeReadableBytes { (bytes) throws(RESPProtocolError) in try parser.parse(bytes) }
        switch result {
        case .needMoreBytes:
            return .needMoreData
        case .request(let arguments, let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            // An empty request (a blank inline line, `*0`) gets no reply, as in Redis.
            if !arguments.isEmpty { context.fireChannelRead(wrapInboundOut(arguments)) }
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
