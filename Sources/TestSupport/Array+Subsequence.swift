extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes (for searches of files for values that must not be there).
    public func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
