import KV
import Testing

/// The HyperLogLog codec: the dense layout round-trips, Redis's sparse layout is read, anything else is not a
/// HyperLogLog (counts are compared with redis-server's by the differential test).
@Suite struct HyperLogLogTests {
    static let header = Array("HYLL".utf8)

    @Test func theDenseLayoutRoundTripsAndCountsAreStable() throws {
        var sketch = HyperLogLog()
        #expect(sketch.count == 0)
        for index in 0..<5_000 { _ = sketch.add(Array("element-\(index)".utf8)) }
        let changed = sketch.add(Array("element-7".utf8))
        #expect(!changed, "an element seen before changes no register")
        let encoded = sketch.encoded()
        #expect(encoded.count == 16 + 12_288 && Array(encoded.prefix(5)) == Self.header + [0])
        let decoded = try #require(HyperLogLog(encoded))
        #expect(decoded == sketch)
        let estimate = Double(sketch.count)
        #expect(abs(estimate - 5_000) / 5_000 < 0.05, "\(estimate) is within the sketch's error of 5,000")
    }

    @Test func redisSparseValuesAreRead() throws {
        // VAL (value 3, run of 2), then XZERO for the other 16,382 registers.
        let rest = HyperLogLog.registerCount - 2 - 1
        let sparse = Self.header + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
            + [0x80 | (2 << 2) | 1, 0x40 | UInt8(rest >> 8), UInt8(rest & 0xFF)]
        let sketch = try #require(HyperLogLog(sparse))
        #expect(Array(sketch.registers.prefix(3)) == [3, 3, 0])
        #expect(sketch.registers.dropFirst(2).allSatisfy { $0 == 0 })
        #expect(HyperLogLog(sketch.encoded()) == sketch)
    }

    @Test func otherStringsAreNotHyperLogLogs() {
        let dense = HyperLogLog().encoded()
        for bad in [[UInt8](), Array("HYLL".utf8), Array(dense.dropLast()), Array("HYLX".utf8) + dense.dropFirst(4),
                    Self.header + [2] + dense.dropFirst(5),
                    Self.header + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0x3F]] {  // sparse, too short
            #expect(HyperLogLog(bad) == nil, "\(bad.prefix(8))")
        }
    }
}
