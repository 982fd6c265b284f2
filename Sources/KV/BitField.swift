import DurableIO

/// BITFIELD's operations on a string, as Redis 7 runs them: fields of 1…64 bits (unsigned up to 63) at any
/// bit offset, most significant bit first; SET and INCRBY under the overflow rule in force (WRAP, SAT, FAIL).
public enum BitField {
    /// What happens when SET or INCRBY leaves the field's range.
    public enum Overflow: UInt8, Hashable, Sendable {
        case wrap = 0, saturate, fail
    }

    /// A field: signedness and width.
    public struct Field: Hashable, Sendable {
        public var signed: Bool
        public var bits: UInt8

        public init(signed: Bool, bits: UInt8) {
            self.signed = signed
            self.bits = bits
        }
    }

    public enum Operation: Hashable, Sendable {
        case get(Field, offset: UInt64)
        case set(Field, offset: UInt64, value: Int64, overflow: Overflow)
        case incrementBy(Field, offset: UInt64, delta: Int64, overflow: Overflow)

        public var writes: Bool {
            if case .get = self { return false }
            return true
        }

        public var field: Field {
            switch self {
            case .get(let field, _), .set(let field, _, _, _), .incrementBy(let field, _, _, _): return field
            }
        }

        public var offset: UInt64 {
            switch self {
            case .get(_, let offset), .set(_, let offset, _, _), .incrementBy(_, let offset, _, _): return offset
            }
        }
    }

    /// Runs `operations` in order on `bytes` (growing it with zero bytes where a write reaches past its end);
    /// each answer is the field's value (GET), its old value (SET), its new value (INCRBY), or `nil` where
    /// FAIL refused a write.
    public static func run(_ operations: [Operation], on bytes: inout [UInt8]) -> [Int64?] {
        operations.map { operation in
            let field = operation.field
            let old = read(bytes, field, at: operation.offset)
            switch operation {
            case .get:
                return old
            case .set(_, let offset, let value, let overflow):
                guard let stored = limited(value, plus: 0, field, overflow) else { return nil }
                write(&bytes, stored, field.bits, at: offset)
                return old
            case .incrementBy(_, let offset, let delta, let overflow):
                guard let sum = limited(old, plus: delta, field, overflow) else { return nil }
                write(&bytes, sum, field.bits, at: offset)
                return sum
            }
        }
    }

    /// The value of a field (0 past the string's end).
    static func read(_ bytes: [UInt8], _ field: Field, at offset: UInt64) -> Int64 {
        var value: UInt64 = 0
        for bit in 0..<UInt64(field.bits) {
            let position = offset + bit
            let byte = Int(position / 8)
            let set = byte < bytes.count && bytes[byte] & (0x80 >> UInt8(position % 8)) != 0
            value = value << 1 | (set ? 1 : 0)
        }
        guard field.signed, field.bits < 64, value & (1 << (UInt64(field.bits) - 1)) != 0 else {
            return Int64(bitPattern: value)
        }
        return Int64(bitPattern: value | (UInt64.max << UInt64(field.bits)))
    }

    static func write(_ bytes: inout [UInt8], _ value: Int64, _ bits: UInt8, at offset: UInt64) {
        let end = Int((offset + UInt64(bits) + 7) / 8)
        if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
        let pattern = UInt64(bitPattern: value)
        for bit in 0..<UInt64(bits) {
            let position = offset + bit
            let mask: UInt8 = 0x80 >> UInt8(position % 8)
            if pattern >> (UInt64(bits) - 1 - bit) & 1 == 1 { bytes[Int(position / 8)] |= mask } else {
                bytes[Int(position / 8)] &= ~mask
            }
        }
    }

    /// `value + delta` within the field's range under `overflow` (nil: FAIL refused), computed as Redis
    /// does: the sum in the field's width (WRAP), its nearest bound (SAT).
    static func limited(_ value: Int64, plus delta: Int64, _ field: Field, _ overflow: Overflow) -> Int64? {
        let bits = UInt64(field.bits)
        if field.signed {
            let max: Int64 = bits == 64 ? .max : (1 << (bits - 1)) - 1
            let min = -max - 1
            let room = max &- value, floor = min &- value
            let above = value > max || (bits != 64 && delta > room) || (value >= 0 && delta > 0 && delta > room)
            let below = value < min || (bits != 64 && delta < floor) || (value < 0 && delta < 0 && delta < floor)
            guard above || below else { return value &+ delta }
            switch overflow {
            case .fail: return nil
            case .saturate: return above ? max : min
            case .wrap:
                var sum = UInt64(bitPattern: value) &+ UInt64(bitPattern: delta)
                if bits < 64 {
                    let mask = UInt64.max << bits
                    sum = sum & (1 << (bits - 1)) != 0 ? sum | mask : sum & ~mask
                }
                return Int64(bitPattern: sum)
            }
        }
        let unsigned = UInt64(bitPattern: value)
        let max: UInt64 = (1 << bits) - 1
        let room = Int64(bitPattern: max &- unsigned), floor = Int64(bitPattern: 0 &- unsigned)
        let above = unsigned > max || (delta > 0 && delta > room)
        let below = !above && delta < 0 && delta < floor
        guard above || below else { return Int64(bitPattern: unsigned &+ UInt64(bitPattern: delta)) }
        switch overflow {
        case .fail: return nil
        case .saturate: return above ? Int64(bitPattern: max) : 0
        case .wrap: return Int64(bitPattern: (unsigned &+ UInt64(bitPattern: delta)) & max)
        }
    }
}
