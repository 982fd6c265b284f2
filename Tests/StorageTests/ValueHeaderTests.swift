import Storage
import Testing
import TestSupport

@Suite struct ValueHeaderTests {
    @Test func roundTripsEveryFieldCombination() throws {
        for tombstone in [false, true] {
            for encoding in [ValueHeader.BodyEncoding.cleartext, .storageEnvelope] {
                for expire in [UInt64(0), 1, 0x0102_0304_0506_0708, .max] {
                    let header = ValueHeader(isTombstone: tombstone, encoding: encoding, expireAtMillis: expire)
                    var bytes: [UInt8] = []
                    header.encode(into: &bytes)
                    #expect(bytes.count == ValueHeader.byteCount)
                    #expect(try ValueHeader(decoding: bytes) == header)
                }
            }
        }
    }

    @Test func encodesTheNormativeLayout() {
        var bytes: [UInt8] = []
        ValueHeader(isTombstone: true, encoding: .storageEnvelope, expireAtMillis: 0x0102_0304_0506_0708)
            .encode(into: &bytes)
        #expect(bytes == [0b011, 1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func rejectsShortRecords() {
        for length in 0..<ValueHeader.byteCount {
            #expect(throws: StorageError.self) { try ValueHeader(decoding: Array(repeating: 0, count: length)) }
        }
    }

    @Test func rejectsReservedEncStateAndBits() {
        for flags: UInt8 in [0b100, 0b110, 0b1000, 0x80, 0xF8] {
            #expect(throws: StorageError.self) {
                try ValueHeader(decoding: [flags] + Array(repeating: 0, count: 8))
            }
        }
    }

    @Test func expiryIsInclusiveOfTheDeadline() {
        let header = ValueHeader(expireAtMillis: 100)
        #expect(!header.isExpired(atMillis: 99))
        #expect(header.isExpired(atMillis: 100))
        #expect(!ValueHeader().isExpired(atMillis: .max))
    }
}
