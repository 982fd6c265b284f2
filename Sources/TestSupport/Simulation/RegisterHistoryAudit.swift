/// Necessary conditions for a register history to be linearizable, cheap enough to run on every seed.
///
/// This is not a full linearizability check (that is the linearizability checker's job); it finds the
/// common anomalies directly: a read returning a value never written, a value from the future, or a value
/// already overwritten before the read began.
public enum RegisterHistoryAudit {
    /// Returns a description of the first anomaly found, or `nil` when none is found.
    public static func findAnomaly(in history: [OperationRecord]) -> String? {
        var writes: [UInt64: OperationRecord] = [:]
        for record in history {
            if case .put(_, let value) = record.input { writes[value] = record }
        }
        for read in history {
            guard case .get(let key) = read.input, case .value(let value)? = read.output else { continue }
            if let anomaly = checkRead(read, key: key, value: value, writes: writes, history: history) {
                return anomaly
            }
        }
        return nil
    }

    private static func checkRead(
        _ read: OperationRecord, key: UInt8, value: UInt64?, writes: [UInt64: OperationRecord],
        history: [OperationRecord]
    ) -> String? {
        let putsOnKey = history.filter { record in
            if case .put(let putKey, _) = record.input { return putKey == key }
            return false
        }
        guard let value else {
            if let done = putsOnKey.first(where: { $0.output != nil && $0.returnTime < read.callTime }) {
                return "get \(read.id) of key \(key) saw no value after put \(done.id) had completed"
            }
            return nil
        }
        guard let write = writes[value], case .put(let writtenKey, _) = write.input, writtenKey == key else {
            return "get \(read.id) of key \(key) returned \(value), which no put on that key wrote"
        }
        if write.callTime > read.returnTime {
            return "get \(read.id) returned the value of put \(write.id), invoked after the get returned"
        }
        // Stale: another put on the key began after `write` completed and completed before the read began.
        if write.output != nil,
            let newer = putsOnKey.first(where: {
                $0.id != write.id && $0.output != nil && $0.callTime > write.returnTime && $0.returnTime < read.callTime
            })
        {
            return "get \(read.id) returned the value of put \(write.id), overwritten by put \(newer.id) before the get"
        }
        return nil
    }
}
