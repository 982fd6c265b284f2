/// Splits an inline command line the way Redis does: spaces separate arguments; double quotes allow
/// escapes (`\n`, `\r`, `\t`, `\b`, `\a`, `\\`, `\"`, `\xHH`); single quotes allow only `\'`.
enum InlineCommand {
    static func split(_ line: [UInt8]) throws(RESPProtocolError) -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var index = 0
        while true {
            while index < line.count, isSpace(line[index]) { index += 1 }
            guard index < line.count else { return arguments }
            var current: [UInt8] = []
            switch line[index] {
            case UInt8(ascii: "\""): index = try readDoubleQuoted(line, index + 1, into: &current)
            case UInt8(ascii: "'"): index = try readSingleQuoted(line, index + 1, into: &current)
            default:
                while index < line.count, !isSpace(line[index]) {
                    current.append(line[index])
                    index += 1
                }
            }
            arguments.append(current)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A || byte == 0x0B || byte == 0x0C
    }

    private static func readDoubleQuoted(_ line: [UInt8], _ start: Int, into output: inout [UInt8])
        throws(RESPProtocolError) -> Int
    {
        var index = start
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") {
                guard index + 1 == line.count || isSpace(line[index + 1]) else { throw .unbalancedQuotes }
                return index + 1
            }
            if byte == UInt8(ascii: "\\"), index + 1 < line.count {
                let next = line[index + 1]
                if next == UInt8(ascii: "x"), index + 3 < line.count,
                   let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3]) {
                    output.append(high << 4 | low)
                    index += 4
                    continue
                }
                let escapes: [UInt8: UInt8] = [UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D,
                                               UInt8(ascii: "t"): 0x09, UInt8(ascii: "b"): 0x08,
                                               UInt8(ascii: "a"): 0x07]
                output.append(escapes[next] ?? next)
                index += 2
                continue
            }
            output.append(byte)
            index += 1
        }
        throw .unbalancedQuotes
    }

    private static func readSingleQuoted(_ line: [UInt8], _ start: Int, into output: inout [UInt8])
        throws(RESPProtocolError) -> Int
    {
        var index = start
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "'") {
                guard index + 1 == line.count || isSpace(line[index + 1]) else { throw .unbalancedQuotes }
                return index + 1
            }
            if byte == UInt8(ascii: "\\"), index + 1 < line.count, line[index + 1] == UInt8(ascii: "'") {
                output.append(UInt8(ascii: "'"))
                index += 2
                continue
            }
            output.append(byte)
            index += 1
        }
        throw .unbalancedQuotes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }
}
