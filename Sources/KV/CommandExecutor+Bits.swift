import Storage

extension CommandExecutor {
    /// SETBIT: bit `offset` (0 = the most significant bit of the first byte) set to `bit`, the string grown
    /// with zero bytes as needed; answers the bit's old value. The TTL stays.
    func setBit(_ key: [UInt8], _ offset: UInt64, _ bit: Bool, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let byteIndex = Int(offset / 8)
        guard byteIndex < maxValueBytes else { return .error(.stringTooLong) }
        var old: Int64 = 0
        let result = try modifyString(key, ts) { bytes in
            if bytes.count <= byteIndex { bytes.append(contentsOf: repeatElement(0, count: byteIndex + 1 - bytes.count)) }
            let mask = UInt8(0x80) >> UInt8(offset % 8)
            old = bytes[byteIndex] & mask == 0 ? 0 : 1
            if bit { bytes[byteIndex] |= mask } else { bytes[byteIndex] &= ~mask }
        }
        if case .error = result { return result }
        return .integer(old)
    }

    /// BITOP: `destination` becomes the operation over the source strings (missing sources are empty, shorter
    /// ones padded with zero bytes); an empty result deletes it. Answers the result's length.
    func bitOperation(_ operation: Command.BitOperation, _ destination: [UInt8], _ sources: [[UInt8]],
                      _ ts: UInt64) throws(StorageError) -> CommandResult
    {
        var inputs: [[UInt8]] = []
        for source in sources {
            guard let current = try live(source) else {
                inputs.append([])
                continue
            }
            guard case .string(let bytes) = current.value else { return .error(.wrongType) }
            inputs.append(bytes)
        }
        let length = inputs.map(\.count).max() ?? 0
        var result = [UInt8](repeating: 0, count: length)
        for index in 0..<length {
            let column = inputs.map { index < $0.count ? $0[index] : 0 }
            switch operation {
            case .and: result[index] = column.reduce(0xFF, &)
            case .or: result[index] = column.reduce(0, |)
            case .xor: result[index] = column.reduce(0, ^)
            case .not: result[index] = ~column[0]
            }
        }
        if result.isEmpty {
            if try live(destination) != nil { try delete(destination, ts: ts) }
        } else {
            try write(destination, .string(result), expireAt: 0, ts: ts)
        }
        return .integer(Int64(length))
    }
}
