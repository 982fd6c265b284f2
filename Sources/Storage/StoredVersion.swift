/// One MVCC version as the store hands it out: header fields plus the plaintext body.
public struct StoredVersion: Hashable, Sendable {
    public var key: [UInt8]
    public var commitTS: UInt64
    public var isTombstone: Bool
    public var expireAtMillis: UInt64
    /// The plaintext body (opened when it was stored sealed); empty for a tombstone.
    public var body: [UInt8]

    public init(key: [UInt8], commitTS: UInt64, isTombstone: Bool = false, expireAtMillis: UInt64 = 0,
                body: [UInt8] = []) {
        self.key = key
        self.commitTS = commitTS
        self.isTombstone = isTombstone
        self.expireAtMillis = expireAtMillis
        self.body = body
    }

    /// Whether a reader at `nowMillis` sees this version as a live value.
    public func isVisible(atMillis nowMillis: UInt64) -> Bool {
        !isTombstone && !(expireAtMillis != 0 && expireAtMillis <= nowMillis)
    }
}
