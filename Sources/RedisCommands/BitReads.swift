/// GETBIT, BITCOUNT and BITPOS over a string's bytes, with Redis's range rules: negative indexes count from
/// the end, ranges are clamped, an inverted range is empty; ranges count bytes unless `BIT` is given. Bit 0
/// is the most significant bit of the first byte.
public enum BitReads {
    /// A `start end [BYTE | BIT]` range.
    public struct Range: Hashable, Sendable {
        public var start: Int64
        public var end: Int64
        public var inBits: Bool

        public init(start: Int64, end: Int64, inBits: Bool) {
            self.start = start
            self.end = end
            self.inBits = inBits
        }
    }

    static func bit(_ bytes: [UInt8], at offset: UInt64) -> Int64 {
        guard offset / 8 < UInt64(bytes.count) else { return 0 }
        return bytes[Int(offset / 8)] & (0x80 >> UInt8(offset % 8)) == 0 ? 0 : 1
    }

    /// The bit range `[first, last]` a range selects, nil when it is empty. BITCOUNT, like GETRANGE, counts
    /// nothing for two negative inverted indexes; BITPOS clamps them.
    static func bitBounds(_ bytes: [UInt8], _ range: Range, invertedNegativesAreEmpty: Bool)
        -> (first: Int64, last: Int64)?
    {
        let total = Int64(bytes.count) * (range.inBits ? 8 : 1)
        guard let resolved = RedisRange.resolve(range.start, range.end, length: total,
                                                invertedNegativesAreEmpty: invertedNegativesAreEmpty)
        else { return nil }
        let (start, end) = (resolved.lowerBound, resolved.upperBound)
        return range.inBits ? (start, end) : (start * 8, end * 8 + 7)
    }

    static func count(_ bytes: [UInt8], _ range: Range?) -> Int64 {
        guard let range else { return Int64(bytes.reduce(0) { $0 + $1.nonzeroBitCount }) }
        guard let (first, last) = bitBounds(bytes, range, invertedNegativesAreEmpty: true) else { return 0 }
        var total: Int64 = 0
        var index = first
        while index <= last {
            if index % 8 == 0, index + 7 <= last {
                total += Int64(bytes[Int(index / 8)].nonzeroBitCount)
                index += 8
            } else {
                total += bit(bytes, at: UInt64(index))
                index += 1
            }
        }
        return total
    }

    /// BITPOS: the first bit equal to `bit` in the range; -1 when none. Looking for a 0 without an explicit
    /// end treats the string as followed by zero bits (the answer is then the bit after the range).
    static func position(_ bytes: [UInt8], of bit: Bool, start: Int64?, end: Int64?, inBits: Bool) -> Int64 {
        let range = Range(start: start ?? 0, end: end ?? -1, inBits: inBits)
        guard let (first, last) = bitBounds(bytes, range, invertedNegativesAreEmpty: false) else { return -1 }
        let skip: UInt8 = bit ? 0x00 : 0xFF
        var index = first
        while index <= last {
            if index % 8 == 0, index + 7 <= last, bytes[Int(index / 8)] == skip {
                index += 8
                continue
            }
            if (self.bit(bytes, at: UInt64(index)) == 1) == bit { return index }
            index += 1
        }
        return !bit && end == nil ? last + 1 : -1
    }
}
