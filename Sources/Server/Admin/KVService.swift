import ElastickvAPI
import Foundation
import GRPCCore

/// The `elastickv.v1.KV` gRPC service: raw get, put, delete and scan over the node's `RawKeyValueAccess`.
///
/// It checks every request against named limits before touching the node, and maps `RawKeyValueError` to
/// gRPC statuses. A scan answers at most `maxScanItems` pairs and stops early once the response would pass
/// `maxScanResponseBytes`, so a page always fits in a gRPC message; clients continue after the last key.
public struct KVService: Elastickv_V1_KV.SimpleServiceProtocol {
    /// The limits the service enforces.
    public struct Limits: Sendable, Hashable {
        /// The longest key accepted, in bytes.
        public var maxKeyBytes: Int
        /// The most pairs one scan returns; a request's `limit` of 0 means this many.
        public var maxScanItems: Int
        /// The key and value bytes one scan response may carry; at least one pair is always returned.
        public var maxScanResponseBytes: Int

        /// Creates limits; the defaults keep a scan page under gRPC's default 4 MiB message size.
        public init(maxKeyBytes: Int = 64 << 10, maxScanItems: Int = 10_000, maxScanResponseBytes: Int = 3 << 20) {
            precondition(maxKeyBytes > 0 && maxScanItems > 0 && maxScanResponseBytes > 0, "limits must be positive")
            self.maxKeyBytes = maxKeyBytes
            self.maxScanItems = maxScanItems
            self.maxScanResponseBytes = maxScanResponseBytes
        }
    }

    private let storage: any RawKeyValueAccess
    private let limits: Limits

    /// Creates the service over the node's raw key-value operations.
    public init(storage: any RawKeyValueAccess, limits: Limits = Limits()) {
        self.storage = storage
        self.limits = limits
    }

    /// Reads one key; `found` is false when there is no value.
    public func get(request: Elastickv_V1_GetRequest, context: ServerContext) async throws -> Elastickv_V1_GetResponse {
        let key = try checkedKey(request.key)
        let value = try await Self.mapping { () async throws(RawKeyValueError) in
            try await storage.get(key: key, leaseRead: request.leaseRead)
        }
        var response = Elastickv_V1_GetResponse()
        if let value {
            response.found = true
            response.value = Data(value)
        }
        return response
    }

    /// Writes one key and answers once the write has committed.
    public func put(request: Elastickv_V1_PutRequest, context: ServerContext) async throws -> Elastickv_V1_PutResponse {
        let key = try checkedKey(request.key)
        try await Self.mapping { () async throws(RawKeyValueError) in
            try await storage.put(key: key, value: Array(request.value))
        }
        return Elastickv_V1_PutResponse()
    }

    /// Deletes one key; `deleted` says whether a value was there.
    public func delete(
        request: Elastickv_V1_DeleteRequest, context: ServerContext
    ) async throws -> Elastickv_V1_DeleteResponse {
        let key = try checkedKey(request.key)
        var response = Elastickv_V1_DeleteResponse()
        response.deleted = try await Self.mapping { () async throws(RawKeyValueError) in
            try await storage.delete(key: key)
        }
        return response
    }

    /// Returns pairs with `start <= key < end` in key order (`end` empty: no upper bound).
    ///
    /// - Throws: `RPCError(.invalidArgument)` when `limit` exceeds `maxScanItems` or `end` sorts before `start`.
    public func scan(
        request: Elastickv_V1_ScanRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ScanResponse {
        let limit = try checkedScanLimit(request.limit)
        let start = Array(request.start)
        let end = request.end.isEmpty ? nil : Array(request.end)
        if let end, end.lexicographicallyPrecedes(start) {
            throw RPCError(code: .invalidArgument, message: "scan end sorts before start")
        }
        let pairs = try await Self.mapping { () async throws(RawKeyValueError) in
            try await storage.scan(start: start, end: end, limit: limit)
        }
        var response = Elastickv_V1_ScanResponse()
        var bytes = 0
        for pair in pairs.prefix(limit) {
            bytes += pair.key.count + pair.value.count
            if bytes > limits.maxScanResponseBytes && !response.items.isEmpty { break }
            var item = Elastickv_V1_KeyValue()
            item.key = Data(pair.key)
            item.value = Data(pair.value)
            response.items.append(item)
        }
        return response
    }

    private func checkedKey(_ key: Data) throws(RPCError) -> [UInt8] {
        guard !key.isEmpty else { throw RPCError(code: .invalidArgument, message: "key is required") }
        guard key.count <= limits.maxKeyBytes else {
            throw RPCError(
                code: .invalidArgument,
                message: "key is \(key.count) bytes; the maximum is \(limits.maxKeyBytes)")
        }
        return Array(key)
    }

    private func checkedScanLimit(_ requested: UInt32) throws(RPCError) -> Int {
        if requested == 0 { return limits.maxScanItems }
        guard requested <= limits.maxScanItems else {
            throw RPCError(
                code: .invalidArgument,
                message: "scan limit \(requested) exceeds the maximum of \(limits.maxScanItems)")
        }
        return Int(requested)
    }

    private static func mapping<Value>(
        _ operation: () async throws(RawKeyValueError) -> Value
    ) async throws(RPCError) -> Value {
        do throws(RawKeyValueError) {
            return try await operation()
        } catch {
            throw error.rpcError
        }
    }
}
