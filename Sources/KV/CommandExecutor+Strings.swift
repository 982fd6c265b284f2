import Storage

extension CommandExecutor {
    func set(_ key: [UInt8], _ value: [UInt8], _ condition: Command.SetCondition, _ expiry: Command.Expiry,
             _ returnOld: Bool, _ ts: UInt64) throws(StorageError) -> CommandResult
    {
        let current = try live(key)
        var old: CommandResult = .null
        if returnOld, let current {
            guard case .string(let bytes) = current.value else { return .error(.wrongType) }
            old = .bulk(bytes)
        }
        switch condition {
        case .ifAbsent where current != nil, .ifPresent where current == nil:
            return returnOld ? old : .null
        default: break
        }
        let expireAt: UInt64
        switch expiry {
        case .none: expireAt = 0
        case .at(let millis): expireAt = millis
        case .keep: expireAt = current?.expireAtMillis ?? 0
        }
        if expireAt != 0 && expireAt <= nowMillis {
            if current != nil { try delete(key, ts: ts) }
        } else {
            try write(key, .string(value), expireAt: expireAt, ts: ts)
        }
        return returnOld ? old : .ok
    }

    /// Applies `change` to the string at `key` (empty when missing), keeping its TTL; answers the new length.
    func modifyString(_ key: [UInt8], _ ts: UInt64, _ change: (inout [UInt8]) -> Void) throws(StorageError)
        -> CommandResult
    {
        let current = try live(key)
        var bytes: [UInt8] = []
        if let current {
            guard case .string(let existing) = current.value else { return .error(.wrongType) }
            bytes = existing
        }
        change(&bytes)
        guard bytes.count <= maxValueBytes else { return .error(.stringTooLong) }
        try write(key, .string(bytes), expireAt: current?.expireAtMillis ?? 0, ts: ts)
        return .integer(Int64(bytes.count))
    }

    func setRange(_ key: [UInt8], _ offset: UInt64, _ value: [UInt8], _ ts: UInt64) throws(StorageError)
        -> CommandResult
    {
        if value.isEmpty {
            guard let current = try live(key) else { return .integer(0) }
            guard case .string(let bytes) = current.value else { return .error(.wrongType) }
            return .integer(Int64(bytes.count))
        }
        guard offset <= UInt64(maxValueBytes), Int(offset) + value.count <= maxValueBytes else {
            return .error(.stringTooLong)
        }
        return try modifyString(key, ts) { bytes in
            let end = Int(offset) + value.count
            if bytes.count < end { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
            bytes.replaceSubrange(Int(offset)..<end, with: value)
        }
    }

    func incrementBy(_ key: [UInt8], _ delta: Int64, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let current = try live(key)
        var base: Int64 = 0
        if let current {
            guard case .string(let bytes) = current.value else { return .error(.wrongType) }
            guard let parsed = RedisNumber.parseInteger(bytes) else { return .error(.notAnInteger) }
            base = parsed
        }
        let (sum, overflow) = base.addingReportingOverflow(delta)
        guard !overflow else { return .error(.overflow) }
        try write(key, .string(Array(String(sum).utf8)), expireAt: current?.expireAtMillis ?? 0, ts: ts)
        return .integer(sum)
    }

    /// INCRBYFLOAT, checked in Redis's order: the key's type, its value, then the increment (NaN stands for
    /// an increment that did not parse, so that a wrong type is reported first).
    func incrementByFloat(_ key: [UInt8], _ delta: Double, _ ts: UInt64) throws(StorageError) -> CommandResult {
        let current = try live(key)
        var bytes: [UInt8]?
        if let current {
            guard case .string(let existing) = current.value else { return .error(.wrongType) }
            bytes = existing
        }
        let text: [UInt8]
        switch Self.addFloat(delta, to: bytes, unparsable: .notAFloat) {
        case .sum(let sum): text = sum
        case .failure(let error): return .error(error)
        }
        try write(key, .string(text), expireAt: current?.expireAtMillis ?? 0, ts: ts)
        return .bulk(text)
    }

    /// The float increment of INCRBYFLOAT and HINCRBYFLOAT: `existing` (none: 0) plus `delta`, formatted as
    /// Redis answers it. Errors in Redis's order: the value (`unparsable`), the increment (NaN: did not parse),
    /// then a sum that is not finite.
    enum FloatSum {
        case sum([UInt8])
        case failure(CommandError)
    }

    static func addFloat(_ delta: Double, to existing: [UInt8]?, unparsable: CommandError) -> FloatSum {
        var base = 0.0
        if let existing {
            guard let parsed = RedisNumber.parseFloat(existing) else { return .failure(unparsable) }
            base = parsed
        }
        guard !delta.isNaN else { return .failure(.notAFloat) }
        let sum = base + delta
        guard delta.isFinite, sum.isFinite else { return .failure(.nanOrInfinity) }
        return .sum(Array(RedisNumber.format(sum).utf8))
    }

    func getExpire(_ key: [UInt8], _ expiry: Command.Expiry, _ ts: UInt64) throws(StorageError) -> CommandResult {
        guard let current = try live(key) else { return .null }
        guard case .string(let bytes) = current.value else { return .error(.wrongType) }
        switch expiry {
        case .keep: break
        case .none:
            if current.expireAtMillis != 0 { try write(key, current.value, expireAt: 0, ts: ts) }
        case .at(let millis):
            if millis <= nowMillis { try delete(key, ts: ts) } else {
                try write(key, current.value, expireAt: millis, ts: ts)
            }
        }
        return .bulk(bytes)
    }
}
