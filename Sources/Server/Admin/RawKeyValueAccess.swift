/// Raw key-value operations of a node, as the `elastickv.v1.KV` gRPC service needs them.
///
/// Implemented by the running node. Writes go through Raft (forwarded to the leader when the node can);
/// reads are linearizable unless `leaseRead` allows the leader to answer from its lease. Keys and values are
/// opaque bytes; the service has already rejected empty keys and keys over its size limit.
public protocol RawKeyValueAccess: Sendable {
    /// The value stored at `key`, or `nil` when there is none.
    func get(key: [UInt8], leaseRead: Bool) async throws(RawKeyValueError) -> [UInt8]?
    /// Stores `value` at `key` once the write has committed.
    func put(key: [UInt8], value: [UInt8]) async throws(RawKeyValueError)
    /// Deletes `key`; returns whether a value was there.
    func delete(key: [UInt8]) async throws(RawKeyValueError) -> Bool
    /// Up to `limit` pairs with `start <= key < end` (no upper bound when `end` is `nil`), in key order.
    func scan(start: [UInt8], end: [UInt8]?, limit: Int) async throws(RawKeyValueError)
        -> [(key: [UInt8], value: [UInt8])]
}
