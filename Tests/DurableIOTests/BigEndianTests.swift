import DurableIO
import Testing

/// The shared big-endian encoding: byte order, bounds and truncation reports.
@Suite struct BigEndianTests {
    @Test func integersRoundTripMostSignificantByteFirst() throws {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(UInt16(0x0102))
        bytes.appendBigEndian(UInt32(0x0304_0506))
        bytes.appendBigEndian(UInt64(0x0708_090A_0B0C_0D0E))
        bytes.append(0xFF)
        #expect(bytes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xFF])
        var reader = BigEndianReader(bytes)
        #expect(try reader.read(UInt16.self) == 0x0102)
        #expect(try reader.read(UInt32.self) == 0x0304_0506)
        #expect(try reader.read(UInt64.self) == 0x0708_090A_0B0C_0D0E)
        #expect(try reader.read(UInt8.self) == 0xFF)
        #expect(reader.remaining == 0)
    }

    @Test func aShortReadReportsWhatWasMissingAndConsumesNothing() throws {
        var reader = BigEndianReader([1, 2, 3])
        #expect(throws: BigEndianReader.Truncated(needed: 4, available: 3)) { try reader.read(UInt32.self) }
        #expect(reader.remaining == 3)
        #expect(throws: BigEndianReader.Truncated(needed: 5, available: 3)) { try reader.readBytes(5) }
        #expect(Array(try reader.readBytes(3)) == [1, 2, 3])
    }

    @Test func aReaderOverARangeStaysInsideIt() throws {
        var reader = BigEndianReader([9, 1, 2, 9], from: 1, to: 3)
        #expect(try reader.read(UInt16.self) == 0x0102)
        #expect(throws: BigEndianReader.Truncated.self) { try reader.read(UInt8.self) }
    }

    @Test func decodingAWholeValueNeedsExactlyItsWidth() {
        #expect(UInt32(bigEndianBytes: [0, 0, 1, 0]) == 256)
        #expect(UInt32(bigEndianBytes: [0, 1, 0]) == nil)
        #expect(UInt16(bigEndianBytes: [1, 2, 3]) == nil)
    }
}
