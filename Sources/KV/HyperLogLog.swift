/// HyperLogLog as Redis 7 computes it (PFADD, PFCOUNT, PFMERGE), so counts match redis-server's exactly:
/// 16,384 six-bit registers indexed by the low 14 bits of MurmurHash64A (seed 0xadc83b19), each holding the
/// longest run of trailing zeros seen plus one, and Ertl's improved estimator.
///
/// The value is a Redis string in Redis's dense layout: `"HYLL"`, encoding 0, three zero bytes, an 8-byte
/// cached cardinality (not used here: it is always marked stale) and 12,288 bytes of registers. Redis's
/// sparse layout is read too, so a value copied from Redis (GET, then SET) keeps working.
public struct HyperLogLog: Hashable, Sendable {
    static let precision = 14
    public static let registerCount = 1 << precision
    static let registerBits = 6
    static let registerMax: UInt8 = (1 << registerBits) - 1
    static let headerBytes = 16
    static let denseBytes = headerBytes + (registerCount * registerBits + 7) / 8
    static let hashSeed: UInt32 = 0xADC8_3B19

    /// The register values, one per index.
    public private(set) var registers: [UInt8]

    public init() {
        registers = [UInt8](repeating: 0, count: Self.registerCount)
    }

    /// Why a string is not a HyperLogLog, in Redis's words.
    public static let notAHyperLogLog = "WRONGTYPE Key is not a valid HyperLogLog string value."

    /// Reads a value in Redis's dense or sparse layout; `nil` when the string is not one.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.headerBytes, Array(bytes[0..<4]) == Array("HYLL".utf8) else { return nil }
        self.init()
        switch bytes[4] {
        case 0:
            guard bytes.count == Self.denseBytes else { return nil }
            let payload = Array(bytes[Self.headerBytes...]) + [0]
            for index in 0..<Self.registerCount { registers[index] = Self.denseRegister(payload, index) }
        case 1:
            var index = 0
            var position = Self.headerBytes
            while position < bytes.count {
                let opcode = bytes[position]
                if opcode & 0xC0 == 0 {  // ZERO: 00xxxxxx, run of 1…64 zero registers
                    index += Int(opcode & 0x3F) + 1
                    position += 1
                } else if opcode & 0xC0 == 0x40 {  // XZERO: 01xxxxxx yyyyyyyy, run of 1…16384
                    guard position + 1 < bytes.count else { return nil }
                    index += (Int(opcode & 0x3F) << 8 | Int(bytes[position + 1])) + 1
                    position += 2
                } else {  // VAL: 1vvvvvxx, 1…4 registers of value 1…32
                    let value = UInt8((opcode >> 2) & 0x1F) + 1
                    let run = Int(opcode & 0x03) + 1
                    guard index + run <= Self.registerCount else { return nil }
                    for offset in 0..<run { registers[index + offset] = value }
                    index += run
                    position += 1
                }
                guard index <= Self.registerCount else { return nil }
            }
            guard index == Self.registerCount else { return nil }
        default:
            return nil
        }
    }

    /// The dense layout of these registers, its cached cardinality marked stale.
    public func encoded() -> [UInt8] {
        var bytes = Array("HYLL".utf8) + [0, 0, 0, 0]
        bytes += [0, 0, 0, 0, 0, 0, 0, 0x80]
        var payload = [UInt8](repeating: 0, count: Self.denseBytes - Self.headerBytes + 1)
        for (index, value) in registers.enumerated() where value != 0 {
            let bit = index * Self.registerBits
            let byte = bit / 8, shift = bit & 7
            payload[byte] |= value << shift
            payload[byte + 1] |= UInt8(truncatingIfNeeded: UInt16(value) >> (8 - shift))
        }
        return bytes + payload.dropLast()
    }

    private static func denseRegister(_ payload: [UInt8], _ index: Int) -> UInt8 {
        let bit = index * registerBits
        let byte = bit / 8, shift = bit & 7
        let low = UInt16(payload[byte]) >> shift
        let high = UInt16(payload[byte + 1]) << (8 - shift)
        return UInt8(truncatingIfNeeded: low | high) & registerMax
    }

    /// Adds `element`; whether a register changed (PFADD's answer).
    public mutating func add(_ element: [UInt8]) -> Bool {
        let hash = Self.murmurHash64A(element, seed: Self.hashSeed)
        let index = Int(hash & UInt64(Self.registerCount - 1))
        let rest = (hash >> UInt64(Self.precision)) | (1 << 50)
        let count = UInt8(rest.trailingZeroBitCount + 1)
        guard count > registers[index] else { return false }
        registers[index] = count
        return true
    }

    /// Takes the larger register of each pair (PFMERGE, PFCOUNT of several keys).
    public mutating func merge(_ other: HyperLogLog) {
        for index in 0..<Self.registerCount where other.registers[index] > registers[index] {
            registers[index] = other.registers[index]
        }
    }

    /// The estimated number of distinct elements added.
    public var count: UInt64 {
        let m = Double(Self.registerCount)
        var histogram = [Int](repeating: 0, count: 64)
        for value in registers { histogram[Int(value)] += 1 }
        var z = m * Self.tau((m - Double(histogram[51])) / m)
        for value in stride(from: 50, through: 1, by: -1) {
            z += Double(histogram[value])
            z *= 0.5
        }
        z += m * Self.sigma(Double(histogram[0]) / m)
        return UInt64((0.721347520444481703680 * m * m / z).rounded(.toNearestOrAwayFromZero))
    }

    private static func sigma(_ value: Double) -> Double {
        if value == 1 { return .infinity }
        var x = value, y = 1.0, z = value, previous = 0.0
        repeat {
            x *= x
            previous = z
            z += x * y
            y += y
        } while previous != z
        return z
    }

    private static func tau(_ value: Double) -> Double {
        if value == 0 || value == 1 { return 0 }
        var x = value, y = 1.0, z = 1 - value, previous = 0.0
        repeat {
            x = x.squareRoot()
            previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
        } while previous != z
        return z / 3
    }

    /// MurmurHash64A, as Redis uses it: 8-byte little-endian blocks, then the tail.
    static func murmurHash64A(_ data: [UInt8], seed: UInt32) -> UInt64 {
        let m: UInt64 = 0xC6A4_A793_5BD1_E995
        var h = UInt64(seed) ^ (UInt64(data.count) &* m)
        let blocks = data.count / 8
        for block in 0..<blocks {
            var k: UInt64 = 0
            for byte in 0..<8 { k |= UInt64(data[block * 8 + byte]) << (8 * UInt64(byte)) }
            k = k &* m
            k ^= k >> 47
            k = k &* m
            h ^= k
            h = h &* m
        }
        let tail = data.count & 7
        if tail > 0 {
            for byte in stride(from: tail - 1, through: 0, by: -1) { h ^= UInt64(data[blocks * 8 + byte]) << (8 * UInt64(byte)) }
            h = h &* m
        }
        h ^= h >> 47
        h = h &* m
        h ^= h >> 47
        return h
    }
}
