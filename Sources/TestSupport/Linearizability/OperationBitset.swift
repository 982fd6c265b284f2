/// A fixed-size set of operation indices, stored one bit per operation.
///
/// It names which operations a search has linearized so far and is part of the search's memo key, so it
/// must hash and compare by content.
struct OperationBitset: Hashable {
    private var words: [UInt64]

    /// Creates an empty set able to hold indices `0..<capacity`.
    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    /// The bytes of storage the set holds, for memory accounting.
    var storageBytes: Int { words.count * MemoryLayout<UInt64>.stride }

    func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    mutating func insert(_ index: Int) {
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    mutating func remove(_ index: Int) {
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }
}
