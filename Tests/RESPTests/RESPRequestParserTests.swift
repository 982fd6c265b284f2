import RESP
import Testing

@Suite struct RESPRequestParserTests {
    let parser = RESPRequestParser()

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func parsesAMultibulkRequest() throws {
        let input = bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nPING")
        #expect(try parser.parse(input) == .request(arguments: [bytes("SET"), bytes("k"), []], consumed: 26))
    }

    @Test func everyPrefixOfAValidRequestNeedsMoreBytes() throws {
        let input = bytes("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
        for length in 0..<input.count {
            #expect(try parser.parse(Array(input[0..<length])) == .needMoreBytes, "prefix \(length)")
        }
        #expect(try parser.parse(input) == .request(arguments: [bytes("ECHO"), bytes("hello")], consumed: input.count))
    }

    @Test func binarySafeBulkArguments() throws {
        let payload: [UInt8] = [0, 13, 10, 255, 36]
        let input = bytes("*1\r\n$5\r\n") + payload + bytes("\r\n")
        #expect(try parser.parse(input) == .request(arguments: [payload], consumed: input.count))
    }

    @Test func parsesInlineCommandsWithQuotes() throws {
        #expect(try parser.parse(bytes("PING\r\n")) == .request(arguments: [bytes("PING")], consumed: 6))
        #expect(try parser.parse(bytes("set  k \"a b\\x41\\n\" 'it\\'s'\n"))
            == .request(arguments: [bytes("set"), bytes("k"), bytes("a bA\n"), bytes("it's")], consumed: 27))
        #expect(try parser.parse(bytes("\r\n")) == .request(arguments: [], consumed: 2))
        #expect(try parser.parse(bytes("GET k")) == .needMoreBytes)
    }

    @Test func rejectsMalformedInput() {
        let cases = ["*x\r\n", "*1\r\n:1\r\n", "*1\r\n$-2\r\n", "*1\r\n$3\r\nabcd\r\n", "*1\r\n$\r\n",
                     "*1\r\n$3\r\nabc\n\r", "*99999999999\r\n", "*1\r\n$99999999999999999999999\r\n",
                     "set \"unterminated\n", "set \"a\"b\n", "*1\r\n$1x\r\n"]
        for text in cases {
            #expect(throws: RESPProtocolError.self, "\(text.debugDescription)") { try parser.parse(bytes(text)) }
        }
    }

    @Test func enforcesLimitsBeforeAllocating() {
        var limits = RESPRequestParser.Limits()
        limits.maxArguments = 2
        limits.maxBulkBytes = 4
        limits.maxInlineBytes = 8
        let strict = RESPRequestParser(limits: limits)
        #expect(throws: RESPProtocolError.invalidMultibulkLength) { try strict.parse(bytes("*3\r\n")) }
        #expect(throws: RESPProtocolError.invalidBulkLength) { try strict.parse(bytes("*1\r\n$5\r\n")) }
        #expect(throws: RESPProtocolError.inlineTooLong) { try strict.parse(bytes("123456789")) }
    }

    @Test func emptyAndNegativeMultibulkAreEmptyRequests() throws {
        #expect(try parser.parse(bytes("*0\r\n")) == .request(arguments: [], consumed: 4))
        #expect(try parser.parse(bytes("*-1\r\n")) == .request(arguments: [], consumed: 5))
    }
}

@Suite struct RESPValueTests {
    @Test func encodesRESP2AndRESP3() {
        let value = RESPValue.array([.ok, .integer(-3), .bulk("hi"), .null, .error("ERR bad\r\nthing")])
        #expect(String(decoding: value.encoded(.resp2), as: UTF8.self)
            == "*5\r\n+OK\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n-ERR bad  thing\r\n")
        #expect(String(decoding: RESPValue.null.encoded(.resp3), as: UTF8.self) == "_\r\n")
        let map = RESPValue.map([.init(.bulk("a"), .integer(1))])
        #expect(String(decoding: map.encoded(.resp3), as: UTF8.self) == "%1\r\n$1\r\na\r\n:1\r\n")
        #expect(String(decoding: map.encoded(.resp2), as: UTF8.self) == "*2\r\n$1\r\na\r\n:1\r\n")
        #expect(String(decoding: RESPValue.double(1.5).encoded(.resp3), as: UTF8.self) == ",1.5\r\n")
        #expect(String(decoding: RESPValue.nullArray.encoded(.resp2), as: UTF8.self) == "*-1\r\n")
    }
}
