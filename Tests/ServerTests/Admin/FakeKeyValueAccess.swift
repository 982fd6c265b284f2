import Synchronization

@testable import Server

/// An in-memory `RawKeyValueAccess` with an optional injected failure and a record of the last lease flag and
/// scan limit it was asked for.
final class FakeKeyValueAccess: RawKeyValueAccess {
    struct State {
        var values: [[UInt8]: [UInt8]] = [:]
        var failure: RawKeyValueError?
        var lastLeaseRead: Bool?
        var lastScanLimit: Int?
        /// Extra pairs a scan returns beyond what was asked, to check the service enforces the limit itself.
        var scanOverflow = 0
    }

    let state = Mutex(State())

    func fail(with failure: RawKeyValueError?) {
        state.withLock { $0.failure = failure }
    }

    func get(key: [UInt8], leaseRead: Bool) async throws(RawKeyValueError) -> [UInt8]? {
        try state.withLock { state throws(RawKeyValueError) in
            state.lastLeaseRead = leaseRead
            if let failure = state.failure { throw failure }
            return state.values[key]
        }
    }

    func put(key: [UInt8], value: [UInt8]) async throws(RawKeyValueError) {
        try state.withLock { state throws(RawKeyValueError) in
            if let failure = state.failure { throw failure }
            state.values[key] = value
        }
    }

    func delete(key: [UInt8]) async throws(RawKeyValueError) -> Bool {
        try state.withLock { state throws(RawKeyValueError) in
            if let failure = state.failure { throw failure }
            return state.values.removeValue(forKey: key) != nil
        }
    }

    func scan(start: [UInt8], end: [UInt8]?, limit: Int) async throws(RawKeyValueError)
        -> [(key: [UInt8], value: [UInt8])]
    {
        try state.withLock { state throws(RawKeyValueError) in
            state.lastScanLimit = limit
            if let failure = state.failure { throw failure }
            let inRange = state.values.keys.filter { key in
                !key.lexicographicallyPrecedes(start) && (end.map { key.lexicographicallyPrecedes($0) } ?? true)
            }
            let keys = inRange.sorted { $0.lexicographicallyPrecedes($1) }.prefix(limit + state.scanOverflow)
            return keys.map { (key: $0, value: state.values[$0]!) }
        }
    }
}
